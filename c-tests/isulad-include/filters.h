/* Stand-in for iSulad's src/utils/cutils/filters.h: the test host implements struct filters_args. */
#ifndef ISULAD_FILTERS_H
#define ISULAD_FILTERS_H

#include "../host/isulad_host.h"

#endif
