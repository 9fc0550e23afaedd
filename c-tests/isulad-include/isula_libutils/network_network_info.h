/* Stand-in for lcr's generated isula_libutils/network_network_info.h. */
#ifndef ISULA_LIBUTILS_NETWORK_NETWORK_INFO_H
#define ISULA_LIBUTILS_NETWORK_NETWORK_INFO_H

#include <isula_libutils/json_common.h>

typedef struct {
    char *name;
    char *version;
    char **plugins;
    size_t plugins_len;
    yajl_val _residual;
} network_network_info;

void free_network_network_info(network_network_info *ptr);

#endif
