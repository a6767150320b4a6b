/*
 * layering/libwebsockets.h - stands in for the real libwebsockets.h in every daemon module outside its one owner
 * (daemon/CMakeLists.txt puts this directory first on their include path): including it is a
 * build error, so the layering is enforced by the compiler, not remembered.
 */
#error "libwebsockets.h is included only by the transport (transport_ws.c): call their typed functions instead"
