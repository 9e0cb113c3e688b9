/* Prints a greeting for each argument (or "world"), with the build's version. */
#include <stdio.h>

#ifndef VERSION
#define VERSION "dev"
#endif

int main(int argc, char **argv) {
    if (argc < 2) {
        printf("hello, world (v%s)\n", VERSION);
        return 0;
    }
    for (int i = 1; i < argc; i++) printf("hello, %s (v%s)\n", argv[i], VERSION);
    return 0;
}
