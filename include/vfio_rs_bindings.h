/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C APIs our modules need beyond what `kernel::bindings` covers.
 *
 * Parsed only by bindgen (scripts/gen-bindings.sh) with the kernel build's own
 * flags; what it turns into Rust is chosen by the allow-list next to each
 * crate (vfio_pci_core/bindings.allow).  Macros that bindgen cannot evaluate
 * (ioctl numbers built with _IO()) are re-declared as typed constants here.
 */
#include <linux/anon_inodes.h>
#include <linux/aperture.h>
#include <linux/dma-buf-mapping.h>
#include <linux/eventfd.h>
#include <linux/iommufd.h>
#include <linux/irqbypass.h>
#include <linux/msi.h>
#include <linux/pci.h>
#include <linux/pm_runtime.h>
#include <linux/vfio.h>
#include <linux/vfio_pci_core.h>
#include <linux/vgaarb.h>

#include "vfio_rs_helpers.h"

#define VFIO_RS_CONST(name) const unsigned int VFIO_RS_##name = name

VFIO_RS_CONST(VFIO_GET_API_VERSION);
VFIO_RS_CONST(VFIO_DEVICE_GET_INFO);
VFIO_RS_CONST(VFIO_DEVICE_GET_REGION_INFO);
VFIO_RS_CONST(VFIO_DEVICE_GET_IRQ_INFO);
VFIO_RS_CONST(VFIO_DEVICE_SET_IRQS);
VFIO_RS_CONST(VFIO_DEVICE_RESET);
VFIO_RS_CONST(VFIO_DEVICE_GET_PCI_HOT_RESET_INFO);
VFIO_RS_CONST(VFIO_DEVICE_PCI_HOT_RESET);
VFIO_RS_CONST(VFIO_DEVICE_IOEVENTFD);
VFIO_RS_CONST(VFIO_DEVICE_FEATURE);
VFIO_RS_CONST(VFIO_MIG_GET_PRECOPY_INFO);
