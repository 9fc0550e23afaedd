/* Stand-in for lcr's generated isula_libutils/network_create_response.h. */
#ifndef ISULA_LIBUTILS_NETWORK_CREATE_RESPONSE_H
#define ISULA_LIBUTILS_NETWORK_CREATE_RESPONSE_H

#include <isula_libutils/json_common.h>

typedef struct {
    char *name;
    uint32_t cc;
    char *errmsg;
    yajl_val _residual;
} network_create_response;

void free_network_create_response(network_create_response *ptr);

#endif
