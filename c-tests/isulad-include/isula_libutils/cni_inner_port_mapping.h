/* Stand-in for lcr's generated isula_libutils/cni_inner_port_mapping.h. */
#ifndef ISULA_LIBUTILS_CNI_INNER_PORT_MAPPING_H
#define ISULA_LIBUTILS_CNI_INNER_PORT_MAPPING_H

#include <isula_libutils/json_common.h>

typedef struct {
    int32_t host_port;
    int32_t container_port;
    char *protocol;
    char *host_ip;
    yajl_val _residual;
} cni_inner_port_mapping;

void free_cni_inner_port_mapping(cni_inner_port_mapping *ptr);

#endif
