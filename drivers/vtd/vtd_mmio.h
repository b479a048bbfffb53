/*
 * vtd_mmio.h - struct vtd_ops on the real hardware (the core only): the
 * registers by uncached MMIO through the identity map, the caches written
 * back with WBINVD, the time from RDTSC.
 */
#ifndef MICROHV_DRIVERS_VTD_VTD_MMIO_H
#define MICROHV_DRIVERS_VTD_VTD_MMIO_H

#include "vtd_unit.h"

extern const struct vtd_ops vtd_mmio_ops;

#endif
