// Cairo (Debian: libcairo2-dev), the 2-D vector graphics library the charts draw with:
// antialiased paths, fonts through fontconfig/FreeType, and PNG output through libpng.
#include <cairo/cairo.h>
