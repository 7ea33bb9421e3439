# Build-wide switches: warnings, sanitizers, ccache, and the helpers every target uses.

option(RESTINU_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(RESTINU_WERROR "Treat warnings as errors" ON)
# tcmalloc (gperftools) as the services' allocator, as Envoy does: a request makes dozens of
# small allocations, and glibc's malloc cost five times tcmalloc's thread-cache fast path
# (ADR 0007). Off under the sanitizers, which bring their own allocator.
if(RESTINU_SANITIZE)
  set(RESTINU_TCMALLOC_DEFAULT OFF)
else()
  set(RESTINU_TCMALLOC_DEFAULT ON)
endif()
option(RESTINU_TCMALLOC "Link the restinu binary with tcmalloc" ${RESTINU_TCMALLOC_DEFAULT})

find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
endif()

add_library(restinu_build_flags INTERFACE)
target_compile_options(restinu_build_flags INTERFACE -Wall -Wextra -Wpedantic
  # g++ 12 at -O2 wrongly reports Asio's coroutine frame operator new/delete as mismatched
  # (GCC bug 109224, fixed in g++ 13); the pair is Asio's own and correct.
  -Wno-mismatched-new-delete)
if(RESTINU_WERROR)
  target_compile_options(restinu_build_flags INTERFACE -Werror)
endif()
target_compile_definitions(restinu_build_flags INTERFACE
  BOOST_BEAST_USE_STD_STRING_VIEW)
# Coroutine frames from the allocator (tcmalloc's per-thread size classes), not Asio's
# recycling cache, which keeps no frame over 1 KiB and sends those to aligned_alloc (ADR 0007).
if(RESTINU_TCMALLOC)
  target_compile_definitions(restinu_build_flags INTERFACE
    BOOST_ASIO_DISABLE_AWAITABLE_FRAME_RECYCLING)
endif()

if(RESTINU_SANITIZE)
  target_compile_options(restinu_build_flags INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(restinu_build_flags INTERFACE -fsanitize=address,undefined)
endif()

# restinu_add_test(NAME name SOURCES ... LIBS ... LABELS unit|integration|e2e)
function(restinu_add_test)
  cmake_parse_arguments(T "" "NAME" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main restinu_build_flags)
  # No test is ever counted as skipped: scripts/gtest_run.sh runs each test binary and renames
  # gtest's SKIPPED marks (a failed SetUpTestSuite makes them), so the exit code decides.
  set_target_properties(${T_NAME} PROPERTIES CROSSCOMPILING_EMULATOR
    "${PROJECT_SOURCE_DIR}/scripts/gtest_run.sh")
  # Discovery at test time keeps the build from running every binary once more.
  gtest_discover_tests(${T_NAME} PROPERTIES LABELS "${T_LABELS}" DISCOVERY_MODE PRE_TEST
    DISCOVERY_TIMEOUT 30)
endfunction()
