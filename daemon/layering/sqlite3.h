/*
 * layering/sqlite3.h - stands in for the real sqlite3.h in every daemon module outside its one owner
 * (daemon/CMakeLists.txt puts this directory first on their include path): including it is a
 * build error, so the layering is enforced by the compiler, not remembered.
 */
#error "sqlite3.h is included only by the store (store*.c): call their typed functions instead"
