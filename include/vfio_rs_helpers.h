/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C helpers for static inline functions and macros that Rust cannot call
 * directly.  Implemented in vfio_pci_core/helpers.c; one line each.
 */
#ifndef VFIO_RS_HELPERS_H
#define VFIO_RS_HELPERS_H

struct vfio_device;
struct eventfd_ctx;

void vfio_rs_put_device(struct vfio_device *vdev);
void vfio_rs_eventfd_signal(struct eventfd_ctx *ctx);

#endif
