/*
 * A program built against an installed clibcni (by the CMake package and by pkg-config): it
 * initialises the network module on the directories given, asks whether it is ready and exits.
 * Usage: consumer <cache_dir> <conf_dir> <bin_dir>
 */
#include <stdio.h>

#include <network_api.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s <cache_dir> <conf_dir> <bin_dir>\n", argv[0]);
        return 2;
    }
    if (!network_module_init("cni", argv[1], argv[2], argv[3])) {
        const char *err = network_module_last_error();
        fprintf(stderr, "network_module_init failed: %s\n", err ? err : "(no message)");
        return 1;
    }
    /* The conf dir is empty: nothing is ready. */
    bool ready = network_module_ready(NETWOKR_API_TYPE_CRI) || network_module_ready(NETWOKR_API_TYPE_NATIVE);
    network_module_exit();
    if (ready) {
        fprintf(stderr, "an empty conf dir reports a ready network type\n");
        return 1;
    }
    printf("consumer: ok\n");
    return 0;
}
