# Shared, dependency-light pieces used by tools, worker and tests.
add_library(dg_idx STATIC worker/idx.c)
target_include_directories(dg_idx PUBLIC worker)
target_link_libraries(dg_idx PUBLIC ZLIB::ZLIB)
