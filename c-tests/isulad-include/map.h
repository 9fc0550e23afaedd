/* Stand-in for iSulad's src/utils/cutils/map/map.h: the test host implements map_t. */
#ifndef ISULAD_MAP_H
#define ISULAD_MAP_H

#include "../host/isulad_host.h"

#endif
