/*
 * network_api.h inside iSulad's build: compiled with -DCLIBCNI_ISULAD_HEADERS against stand-ins
 * of iSulad's and isula_libutils' headers (isulad-include/, tagless typedefs as lcr generates
 * them), the header must take its types from there and keep the same ABI.
 */
#ifndef CLIBCNI_ISULAD_HEADERS
#error "build with -DCLIBCNI_ISULAD_HEADERS -I isulad-include"
#endif

#include "network_api.h"

#include "abi_checks.h"
#include "testlib.h"

/* Only in iSulad's headers: the response network_module_conf_create's caller fills. */
ABI_SIZE(network_create_response, 32);
ABI_FIELD(network_create_response, name, 0);
ABI_FIELD(network_create_response, cc, 8);
ABI_FIELD(network_create_response, errmsg, 16);
ABI_FIELD(network_create_response, _residual, 24);

/* The types came from the stand-ins (a second definition in network_api.h would not compile). */
#if !defined(ISULA_LIBUTILS_JSON_COMMON_H) || !defined(ISULA_LIBUTILS_NETWORK_CREATE_REQUEST_H) ||      \
    !defined(ISULA_LIBUTILS_NETWORK_CREATE_RESPONSE_H) || !defined(ISULA_LIBUTILS_NETWORK_NETWORK_INFO_H) || \
    !defined(ISULA_LIBUTILS_CONTAINER_NETWORK_SETTINGS_H) || !defined(ISULAD_MAP_H) || !defined(ISULAD_FILTERS_H)
#error "network_api.h did not include iSulad's headers"
#endif

int main(void)
{
    abi_check_exports();
    abi_check_macros();
    return test_summary("header_isulad_mode");
}
