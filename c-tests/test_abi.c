/*
 * The C ABI of network_api.h as a standalone header: struct layouts and every export's prototype
 * are iSulad's (checked at compile time, see common/abi_checks.h), and the header can be used in
 * one translation unit with the host's declarations (map_t, filters, the error channel).
 */
#include "network_api.h"
#include "isulad_host.h"

#include "abi_checks.h"
#include "testlib.h"

int main(void)
{
    abi_check_exports();
    abi_check_macros();
    return test_summary("test_abi");
}
