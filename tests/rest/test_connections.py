"""Many idle keep-alive clients at once: none may wait for another's connection to time out.

httplib parks a worker thread on every open keep-alive connection; with too small a pool the
next client stalls until an idle connection expires (5 s). The request timeout below is a
correctness bound (a stall), not a benchmark.
"""
import concurrent.futures

import requests

CLIENTS = 40


def test_many_keep_alive_clients_are_served_at_once(server):
    sessions = [requests.Session() for _ in range(CLIENTS)]
    try:
        with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
            for _ in range(2):  # the second round reuses the 40 open connections
                statuses = list(pool.map(
                    lambda s: s.get(f"{server.url}/health", timeout=3).status_code, sessions))
                assert statuses == [200] * CLIENTS
    finally:
        for session in sessions:
            session.close()
