// SPDX-License-Identifier: GPL-2.0

//! PCI config space virtualization (`logic/config`): what the user of a
//! VFIO device sees and what reaches the device, value by value, as
//! upstream's `vfio_pci_config.c` does it.

mod bars;
mod caps;
mod chain;
mod fixtures;
mod header;
mod pieces;
