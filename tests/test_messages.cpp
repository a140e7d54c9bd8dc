// printable(): values from input are made safe for one-line error messages.
#include <catch2/catch.hpp>

#include "core/error.h"

using namespace st;

TEST_CASE("printable escapes control bytes and abbreviates long values", "[errors]") {
  CHECK(printable("phase1") == "phase1");
  CHECK(printable("a\nb\tc\x7f") == "a\\x0ab\\x09c\\x7f");
  CHECK(printable(std::string("a\0b", 3)) == "a\\x00b");
  CHECK(printable("caf\xc3\xa9") == "caf\xc3\xa9");  // UTF-8 stays as it is
  const std::string long_value(1000, 'x');
  CHECK(printable(long_value, 10) == "xxxxxxxxxx... (1000 bytes)");
  // The cut does not split a UTF-8 sequence: "é" is 2 bytes at offsets 9 and 10.
  CHECK(printable("xxxxxxxxx\xc3\xa9yyyy", 10) == "xxxxxxxxx... (15 bytes)");
}
