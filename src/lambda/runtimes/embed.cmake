# Turns a runtime bootstrap into a C++ source: cmake -DINPUT=<file> -DOUTPUT=<.cc> -DNAME=<symbol>
# -P embed.cmake. The bytes go in as a hex array, so any character in the source is safe.
file(READ "${INPUT}" content HEX)
string(LENGTH "${content}" hex_length)
math(EXPR byte_count "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${content}")
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by runtimes/embed.cmake. Do not edit.\n"
  "#include <string_view>\n"
  "namespace salespipe::lambda {\n"
  "static const char ${NAME}_bytes[] = {${bytes}};\n"
  "extern const std::string_view ${NAME}(${NAME}_bytes, ${byte_count});\n"
  "}  // namespace salespipe::lambda\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
