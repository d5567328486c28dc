#include "storage/column_batch.h"

#include <gtest/gtest.h>

namespace lakeml::storage {
namespace {

TEST(ColumnTest, ValidityIsMaterializedOnFirstNull) {
  Column column(DataType::kInt64);
  column.AppendInt(1);
  column.AppendInt(2);
  EXPECT_FALSE(column.has_nulls());
  column.AppendNull();
  column.AppendInt(4);
  ASSERT_TRUE(column.has_nulls());
  EXPECT_EQ(column.size(), 4u);
  EXPECT_FALSE(column.IsNull(0));
  EXPECT_TRUE(column.IsNull(2));
  EXPECT_EQ(column.Int(3), 4);
}

TEST(ColumnTest, BytesUseOffsets) {
  Column column(DataType::kString);
  column.AppendBytes("red");
  column.AppendNull();
  column.AppendBytes("");
  column.AppendBytes("white");
  EXPECT_EQ(column.Bytes(0), "red");
  EXPECT_EQ(column.Bytes(1), "");
  EXPECT_TRUE(column.IsNull(1));
  EXPECT_EQ(column.Bytes(3), "white");
  EXPECT_EQ(column.offsets().size(), 5u);
}

TEST(ColumnBatchTest, ValidateCatchesMismatches) {
  ColumnBatch batch;
  batch.schema.fields = {{"a", DataType::kInt64}, {"b", DataType::kDouble}};
  batch.columns.emplace_back(DataType::kInt64);
  batch.columns.emplace_back(DataType::kDouble);
  batch.columns[0].AppendInt(1);
  EXPECT_FALSE(batch.Validate().ok());
  batch.columns[1].AppendDouble(0.5);
  EXPECT_TRUE(batch.Validate().ok());
  EXPECT_EQ(batch.schema.FieldIndex("b"), 1u);
  EXPECT_FALSE(batch.schema.FieldIndex("c").has_value());
}

}  // namespace
}  // namespace lakeml::storage
