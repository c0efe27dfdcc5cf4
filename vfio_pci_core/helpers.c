// SPDX-License-Identifier: GPL-2.0
/*
 * C helpers for static inline functions that the Rust code of vfio_pci_core
 * calls.  Only one-line wrappers belong here; all logic is in Rust.  They are
 * exported because generic core code is instantiated in the driver modules.
 */
#include <linux/eventfd.h>
#include <linux/export.h>
#include <linux/vfio.h>

#include "vfio_rs_helpers.h"

void vfio_rs_put_device(struct vfio_device *vdev)
{
	vfio_put_device(vdev);
}
EXPORT_SYMBOL_GPL(vfio_rs_put_device);

void vfio_rs_eventfd_signal(struct eventfd_ctx *ctx)
{
	eventfd_signal(ctx);
}
EXPORT_SYMBOL_GPL(vfio_rs_eventfd_signal);
