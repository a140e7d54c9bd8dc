# Sourced by the command-line tests. They keep every program's stderr in a file (never
# 2>/dev/null), so that a sanitizer report cannot pass unseen: a test that checks only exit codes
# or stdout calls sanitizer_check on the files, and a test under the sanitizer build
# (tools/run_sanitized_tests.sh) fails on any report.

# sanitizer_check FILE...: prints each file that holds an AddressSanitizer, LeakSanitizer or
# UndefinedBehaviorSanitizer report, with the report, and returns 1 if there is one.
sanitizer_check() {
  local f found=0
  for f in "$@"; do
    [ -f "$f" ] || continue
    if grep -qE 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error: |SUMMARY: (Address|UndefinedBehavior)Sanitizer' "$f"; then
      echo "FAIL: sanitizer report in $f:"
      cat "$f"
      found=1
    fi
  done
  return "$found"
}

# sanitized BINARY: true when BINARY was built with AddressSanitizer (GCC links libasan
# dynamically; clang's static runtime leaves __asan_init in the symbol table).
sanitized() {
  ldd "$1" 2>/dev/null | grep -q libasan || nm "$1" 2>/dev/null | grep -q ' __asan_init'
}
