// SPDX-License-Identifier: GPL-2.0

//! The virtual BARs: sizing as the user expects from hardware, and the
//! restore of the real BARs after a reset the kernel did not see.
//!
//! The user never touches the real BARs: its writes land in `vconfig`, and
//! the next read of a BAR first masks the written value with the BAR's size
//! and adds its type flags (`vfio_bar_fixup()`), so that writing all-ones
//! and reading back yields the size mask, as on a real device.

use super::{
    phys_read,
    phys_read_or_ones,
    phys_write,
    regs::*,
    BarResource,
    PhysConfig,
    VirtConfig, //
};
use core::sync::atomic::Ordering::{
    Relaxed, //
};

/// `vfio_generate_bar_flags()`: the type bits of a BAR as the PCI core
/// sees the resource.
fn bar_flags(res: &BarResource) -> u32 {
    if res.io {
        return PCI_BASE_ADDRESS_SPACE_IO;
    }
    let mut val = PCI_BASE_ADDRESS_SPACE_MEMORY;
    if res.prefetch {
        val |= PCI_BASE_ADDRESS_MEM_PREFETCH;
    }
    if res.mem64 {
        val |= PCI_BASE_ADDRESS_MEM_TYPE_64;
    }
    val
}

/// `~(len - 1)`: the address bits a BAR of `len` bytes decodes.
fn size_mask(len: u64) -> u64 {
    !len.wrapping_sub(1)
}

impl VirtConfig {
    /// `vfio_bar_fixup()`: makes the virtual BARs look like sized hardware
    /// BARs after the user wrote them.
    pub(super) fn bar_fixup(&self) {
        if !self.bardirty.load(Relaxed) {
            return;
        }

        let mut i = 0;
        while i < PCI_STD_NUM_BARS {
            let pos = PCI_BASE_ADDRESS_0 + 4 * i;
            let Some(res) = self.facts.bars.get(i).copied() else {
                break;
            };
            if res.start == 0 {
                // Unmapped by the host: unimplemented for the user.
                self.vwrite(pos, 4, 0);
                i += 1;
                continue;
            }
            let mask = size_mask(res.len);
            // CAST: the low half of the mask.
            let vbar = (self.vread(pos, 4) & mask as u32) | bar_flags(&res);
            self.vwrite(pos, 4, vbar);
            // The BAR's own value decides, as upstream: the next is its
            // upper half.
            if vbar & PCI_BASE_ADDRESS_MEM_TYPE_64 != 0 {
                i += 1;
                // CAST: the high half of the mask.
                let upper = self.vread(pos + 4, 4) & (mask >> 32) as u32;
                self.vwrite(pos + 4, 4, upper);
            }
            i += 1;
        }

        // A ROM the host could not read still reports its size, or the
        // size of the shadow ROM.
        let rom = self.facts.rom;
        let mask = if rom.start != 0 {
            Some(size_mask(rom.len))
        } else if self.facts.shadow_rom_len != 0 {
            Some(size_mask(
                self.facts
                    .shadow_rom_len
                    .checked_next_power_of_two()
                    .unwrap_or(0),
            ))
        } else {
            None
        };
        let vrom = match mask {
            // CAST: the low half of the mask.
            Some(mask) => self.vread(PCI_ROM_ADDRESS, 4) & (mask as u32 | PCI_ROM_ADDRESS_ENABLE),
            None => 0,
        };
        self.vwrite(PCI_ROM_ADDRESS, 4, vrom);

        self.bardirty.store(false, Relaxed);
    }

    /// `vfio_need_bar_restore()`: whether a BAR the device had at init no
    /// longer holds its value (a reset we did not see).  Run by every
    /// COMMAND write: always inlined there, as C's is.
    #[inline(always)]
    pub(super) fn need_bar_restore<P: PhysConfig + ?Sized>(&self, phys: &mut P) -> bool {
        let mut pos = PCI_BASE_ADDRESS_0;
        for &rbar in self.rbar.iter().take(PCI_STD_NUM_BARS) {
            if rbar != 0 {
                match phys_read(phys, pos, 4) {
                    Ok(bar) if bar == rbar => {}
                    _ => return true,
                }
            }
            pos += 4;
        }
        false
    }

    /// `vfio_bar_restore()`: writes the saved BARs back after a FLR or a
    /// backdoor reset; returns whether it did (never for a VF, whose BARs
    /// live in its PF).
    pub(super) fn bar_restore<P: PhysConfig + ?Sized>(&self, phys: &mut P) -> bool {
        if self.facts.is_virtfn {
            return false;
        }
        for (i, rbar) in self.rbar.iter().take(PCI_STD_NUM_BARS).enumerate() {
            // Errors are ignored, as upstream does.
            let _ = phys_write(phys, PCI_BASE_ADDRESS_0 + 4 * i, 4, *rbar);
        }
        if let Some(rom) = self.rbar.get(PCI_STD_NUM_BARS) {
            let _ = phys_write(phys, PCI_ROM_ADDRESS, 4, *rom);
        }
        if self.facts.nointx {
            let cmd = phys_read_or_ones(phys, PCI_COMMAND, 2) | u32::from(PCI_COMMAND_INTX_DISABLE);
            let _ = phys_write(phys, PCI_COMMAND, 2, cmd);
        }
        true
    }
}
