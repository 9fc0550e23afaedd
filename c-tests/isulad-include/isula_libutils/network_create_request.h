/* Stand-in for lcr's generated isula_libutils/network_create_request.h. */
#ifndef ISULA_LIBUTILS_NETWORK_CREATE_REQUEST_H
#define ISULA_LIBUTILS_NETWORK_CREATE_REQUEST_H

#include <isula_libutils/json_common.h>

typedef struct {
    char *name;
    char *driver;
    char *gateway;
    bool internal;
    char *subnet;
    yajl_val _residual;
} network_create_request;

void free_network_create_request(network_create_request *ptr);

#endif
