#include "services/s3/xml.h"

#include <gtest/gtest.h>

namespace salespipe::services::s3 {
namespace {

TEST(XmlTest, ParsesS3RequestBodies) {
  auto doc = ParseXml(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Object><Key>a&amp;b</Key>"
      "</Object><Object><Key>caf&#xE9; &lt;x&gt;</Key><VersionId/></Object><Quiet>true</Quiet>"
      "</Delete>");
  ASSERT_TRUE(doc.has_value());
  EXPECT_EQ(doc->name, "Delete");
  auto objects = doc->Children("Object");
  ASSERT_EQ(objects.size(), 2u);
  EXPECT_EQ(objects[0]->Child("Key")->text, "a&b");
  EXPECT_EQ(objects[1]->Child("Key")->text, "café <x>");
  EXPECT_EQ(doc->Child("Quiet")->text, "true");
}

TEST(XmlTest, RejectsMalformed) {
  EXPECT_FALSE(ParseXml("<a><b></a>").has_value());
  EXPECT_FALSE(ParseXml("<a>").has_value());
  EXPECT_FALSE(ParseXml("<a>&bogus;</a>").has_value());
  EXPECT_FALSE(ParseXml("").has_value());
  EXPECT_FALSE(ParseXml("<a></a><b/>").has_value());
}

TEST(XmlTest, WriterEscapesAndAddsNamespace) {
  XmlWriter xml("R");
  xml.Element("Key", "a<&>\"'");
  EXPECT_EQ(xml.Finish("R"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<R "
            "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Key>a&lt;&amp;&gt;&quot;&apos;"
            "</Key></R>");
}

}  // namespace
}  // namespace salespipe::services::s3
