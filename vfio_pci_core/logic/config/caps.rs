// SPDX-License-Identifier: GPL-2.0

//! Building the virtual config space: the capability walks of
//! `vfio_config_init()`, `vfio_cap_init()` and `vfio_ecap_init()`.
//!
//! Each capability the user may see gets its bytes in `pci_config_map` and
//! its initial value in `vconfig`; a capability of unknown or unwanted
//! kind (length 0 in the tables below) is hidden by pointing the previous
//! next pointer past it.  Lengths the hardware does not fix are read from
//! the capability, as upstream does.

use super::{
    perm,
    phys_read,
    phys_read_or_ones,
    regs::*,
    DeviceFacts,
    InitNotes,
    Overlap,
    PhysConfig,
    VirtConfig,
    EINVAL,
    PCI_CAP_ID_BASIC,
    PCI_CAP_ID_INVALID, //
};

/// A length the tables leave to [`VirtConfig::cap_len`] or
/// [`VirtConfig::ext_cap_len`].
const VARIABLE: usize = 0xff;

/// `pci_cap_length[]`: length of each standard capability the user sees,
/// 0 for hidden ones, [`VARIABLE`] for those whose length depends on the
/// device.
const PCI_CAP_LENGTH: [usize; PCI_CAP_ID_MAX as usize + 1] = {
    let mut t = [0; PCI_CAP_ID_MAX as usize + 1];
    t[PCI_CAP_ID_BASIC as usize] = PCI_STD_HEADER_SIZEOF;
    t[PCI_CAP_ID_PM as usize] = PCI_PM_SIZEOF;
    t[PCI_CAP_ID_AGP as usize] = PCI_AGP_SIZEOF;
    t[PCI_CAP_ID_VPD as usize] = PCI_CAP_VPD_SIZEOF;
    t[PCI_CAP_ID_MSI as usize] = VARIABLE;
    t[PCI_CAP_ID_PCIX as usize] = VARIABLE;
    t[PCI_CAP_ID_HT as usize] = VARIABLE;
    t[PCI_CAP_ID_VNDR as usize] = VARIABLE;
    t[PCI_CAP_ID_EXP as usize] = VARIABLE;
    t[PCI_CAP_ID_MSIX as usize] = PCI_CAP_MSIX_SIZEOF;
    t[PCI_CAP_ID_SATA as usize] = VARIABLE;
    t[PCI_CAP_ID_AF as usize] = PCI_CAP_AF_SIZEOF;
    t
};

/// `pci_ext_cap_length[]`, the same for extended capabilities.
const PCI_EXT_CAP_LENGTH: [usize; PCI_EXT_CAP_ID_MAX as usize + 1] = {
    let mut t = [0; PCI_EXT_CAP_ID_MAX as usize + 1];
    t[PCI_EXT_CAP_ID_ERR as usize] = PCI_ERR_ROOT_COMMAND;
    t[PCI_EXT_CAP_ID_VC as usize] = VARIABLE;
    t[PCI_EXT_CAP_ID_DSN as usize] = PCI_EXT_CAP_DSN_SIZEOF;
    t[PCI_EXT_CAP_ID_PWR as usize] = PCI_EXT_CAP_PWR_SIZEOF;
    t[PCI_EXT_CAP_ID_MFVC as usize] = VARIABLE;
    t[PCI_EXT_CAP_ID_VC9 as usize] = VARIABLE;
    t[PCI_EXT_CAP_ID_VNDR as usize] = VARIABLE;
    t[PCI_EXT_CAP_ID_ACS as usize] = VARIABLE;
    t[PCI_EXT_CAP_ID_ARI as usize] = PCI_EXT_CAP_ARI_SIZEOF;
    t[PCI_EXT_CAP_ID_ATS as usize] = PCI_EXT_CAP_ATS_SIZEOF;
    t[PCI_EXT_CAP_ID_SRIOV as usize] = PCI_EXT_CAP_SRIOV_SIZEOF;
    t[PCI_EXT_CAP_ID_MCAST as usize] = PCI_EXT_CAP_MCAST_ENDPOINT_SIZEOF;
    t[PCI_EXT_CAP_ID_PRI as usize] = PCI_EXT_CAP_PRI_SIZEOF;
    t[PCI_EXT_CAP_ID_REBAR as usize] = VARIABLE;
    t[PCI_EXT_CAP_ID_DPA as usize] = VARIABLE;
    t[PCI_EXT_CAP_ID_TPH as usize] = VARIABLE;
    t[PCI_EXT_CAP_ID_LTR as usize] = PCI_EXT_CAP_LTR_SIZEOF;
    t[PCI_EXT_CAP_ID_DVSEC as usize] = VARIABLE;
    t
};

/// `known_bogus_vf_intx_pin[]`: VFs whose non-zero pin is known, so not
/// worth a warning (vendor, device).
const KNOWN_BOGUS_VF_INTX_PIN: &[(u16, u16)] = &[(0x8086, 0x270c)];

/// Reads one byte of the device.
fn read8<P: PhysConfig + ?Sized>(phys: &mut P, pos: usize) -> Result<u8, i32> {
    // CAST: a one-byte read.
    phys_read(phys, pos, 1).map(|v| v as u8)
}

/// Reads one word of the device.
fn read16<P: PhysConfig + ?Sized>(phys: &mut P, pos: usize) -> Result<u16, i32> {
    // CAST: a two-byte read.
    phys_read(phys, pos, 2).map(|v| v as u16)
}

impl VirtConfig {
    /// Builds the virtual config space of `phys` (`vfio_config_init()`).
    ///
    /// On error the config is left empty (all accesses fail), like
    /// upstream, which frees it.
    pub fn init<P: PhysConfig + ?Sized>(
        &mut self,
        phys: &mut P,
        facts: &DeviceFacts,
    ) -> Result<InitNotes, i32> {
        let cfg_size = usize::from(facts.cfg_size);
        if !(PCI_STD_HEADER_SIZEOF..=PCI_CFG_SPACE_EXP_SIZE).contains(&cfg_size)
            || !cfg_size.is_multiple_of(4)
        {
            return Err(-EINVAL);
        }
        let ret = self.do_init(phys, facts);
        if ret.is_err() {
            self.facts.cfg_size = 0;
        }
        ret
    }

    fn do_init<P: PhysConfig + ?Sized>(
        &mut self,
        phys: &mut P,
        facts: &DeviceFacts,
    ) -> Result<InitNotes, i32> {
        let mut notes = InitNotes::default();

        // The kernel builds the config of each open in the allocation of
        // the first.  No access reaches past `cfg_size`, so only the bytes
        // below it need resetting (256 of 4096 without extended space).
        let size = usize::from(facts.cfg_size);
        if let Some(v) = self.vconfig.get_mut(..size) {
            for b in v {
                *b.get_mut() = 0;
            }
        }
        if let Some(map) = self.pci_config_map.get_mut(..size) {
            map.fill(PCI_CAP_ID_INVALID);
        }
        if let Some(header) = self.pci_config_map.get_mut(..PCI_STD_HEADER_SIZEOF) {
            header.fill(PCI_CAP_ID_BASIC);
        }
        // Until a capability claims a byte of the header.
        self.header_basic = true;
        self.has_msi_perm = false;
        self.msi_flags = 0;
        self.msi_span = (0, 0);
        self.extended_caps = false;
        *self.virq_disabled.get_mut() = false;
        self.facts = *facts;

        self.fill_vconfig_bytes(phys, 0, PCI_STD_HEADER_SIZEOF)?;
        *self.bardirty.get_mut() = true;

        // For restore after reset.
        let mut rbar = [0u32; PCI_STD_NUM_BARS + 1];
        for (i, r) in rbar.iter_mut().take(PCI_STD_NUM_BARS).enumerate() {
            *r = self.vread(PCI_BASE_ADDRESS_0 + 4 * i, 4);
        }
        rbar[PCI_STD_NUM_BARS] = self.vread(PCI_ROM_ADDRESS, 4);
        self.rbar = rbar;

        if facts.is_virtfn {
            self.set_vword(PCI_VENDOR_ID, facts.vendor);
            self.set_vword(PCI_DEVICE_ID, facts.device);
            // SR-IOV says a VF's pin is read-only zero; a VF that reports
            // one has a hardware bug, which the virtual pin hides.
            let pin = self.vbyte(PCI_INTERRUPT_PIN);
            if pin != 0 && !KNOWN_BOGUS_VF_INTX_PIN.contains(&(facts.vendor, facts.device)) {
                notes.bogus_vf_intx_pin = Some(pin);
            }
            self.vwrite(PCI_INTERRUPT_PIN, 1, 0);
        }
        if facts.no_command_memory {
            // No memory enable bit to find set after pci_enable_device():
            // set the virtual one, as for a PF.
            let cmd = self.vword(PCI_COMMAND) | PCI_COMMAND_MEMORY;
            self.set_vword(PCI_COMMAND, cmd);
        }
        if !facts.intx_irq || facts.nointx {
            self.vwrite(PCI_INTERRUPT_PIN, 1, 0);
        }

        self.cap_init(phys, &mut notes)?;
        self.ecap_init(phys, &mut notes)?;
        Ok(notes)
    }

    /// `vfio_fill_vconfig_bytes()`: copies the device's bytes into
    /// `vconfig` in the widest aligned reads, as `pci_save_state()` does.
    fn fill_vconfig_bytes<P: PhysConfig + ?Sized>(
        &mut self,
        phys: &mut P,
        mut offset: usize,
        mut size: usize,
    ) -> Result<(), i32> {
        while size != 0 {
            let count = if size >= 4 && offset.is_multiple_of(4) {
                4
            } else if size >= 2 && offset.is_multiple_of(2) {
                2
            } else {
                1
            };
            let val = phys_read(phys, offset, count)?;
            self.vwrite(offset, count, val);
            offset += count;
            size -= count;
        }
        Ok(())
    }

    /// Gives bytes `pos..pos + len` (cut at the end of config space) to
    /// capability `id`, noting bytes that already had an owner.  Returns
    /// the length given.
    ///
    /// Also keeps [`VirtConfig::header_basic`] and
    /// [`VirtConfig::msi_span`] up to date, so that no pass over the map
    /// follows the walk.
    fn claim(&mut self, pos: usize, len: usize, id: u16, notes: &mut InitNotes) -> usize {
        let end = pos.saturating_add(len).min(self.cfg_size());
        let Some(map) = self.pci_config_map.get_mut(pos..end) else {
            return 0;
        };
        if !all_unowned(map) {
            let taken = map.iter().filter(|&&b| b != PCI_CAP_ID_INVALID).count();
            // CAST: at most 4096 bytes.
            notes.overlaps = notes.overlaps.saturating_add(taken as u32);
            if notes.first_overlap.is_none() {
                if let Some((i, &was)) = map
                    .iter()
                    .enumerate()
                    .find(|&(_, &b)| b != PCI_CAP_ID_INVALID)
                {
                    notes.first_overlap = Some(Overlap {
                        // CAST: below cfg_size, at most 4096.
                        pos: (pos + i) as u16,
                        was,
                        now: id,
                    });
                }
            }
        }
        // CAST: upstream memset()s the ID, keeping its low byte.
        map.fill(id as u8);
        self.map_changed(pos, end);
        if end > pos {
            if pos < PCI_CFG_SPACE_SIZE && id == u16::from(PCI_CAP_ID_MSI) {
                // CAST: below PCI_CFG_SPACE_SIZE (standard capabilities
                // end there).
                let (lo, hi) = (pos as u16, end.min(PCI_CFG_SPACE_SIZE) as u16);
                self.msi_span = match self.msi_span {
                    (0, 0) => (lo, hi),
                    (a, b) => (a.min(lo), b.max(hi)),
                };
            }
        }
        end - pos
    }

    /// `vfio_cap_init()`: walks the standard capabilities.
    fn cap_init<P: PhysConfig + ?Sized>(
        &mut self,
        phys: &mut P,
        notes: &mut InitNotes,
    ) -> Result<(), i32> {
        let status = read16(phys, PCI_STATUS)?;
        if status & PCI_STATUS_CAP_LIST == 0 {
            return Ok(());
        }
        let mut pos = usize::from(read8(phys, PCI_CAPABILITY_LIST)?);
        // The next pointer to rewrite if the capability is hidden.
        let mut prev = PCI_CAPABILITY_LIST;
        // Capabilities are dword aligned, which bounds the walk.
        let mut loops = (PCI_CFG_SPACE_SIZE - PCI_STD_HEADER_SIZEOF) / PCI_CAP_SIZEOF;
        let mut caps = 0;

        while pos != 0 && loops != 0 {
            loops -= 1;
            let cap = read8(phys, pos)?;
            let next = read8(phys, pos + PCI_CAP_LIST_NEXT)?;

            // ID 0 is a NULL capability and conflicts with the header's
            // fake ID: hidden.
            let mut len = 0;
            if cap != 0 {
                if let Some(&l) = PCI_CAP_LENGTH.get(usize::from(cap)) {
                    len = if l == VARIABLE {
                        self.cap_len(phys, cap, pos)?
                    } else {
                        l
                    };
                }
            }

            if len == 0 {
                self.vwrite(prev, 1, next.into());
                pos = usize::from(next);
                continue;
            }

            let len = self.claim(pos, len, cap.into(), notes);
            self.fill_vconfig_bytes(phys, pos, len)?;
            if cap == PCI_CAP_ID_PM {
                self.update_pm_vconfig_bytes(pos);
            }

            prev = pos + PCI_CAP_LIST_NEXT;
            pos = usize::from(next);
            caps += 1;
        }

        if caps == 0 {
            let status = self.vword(PCI_STATUS) & !PCI_STATUS_CAP_LIST;
            self.set_vword(PCI_STATUS, status);
        }
        Ok(())
    }

    /// `vfio_update_pm_vconfig_bytes()`: the user cannot handle PME, so
    /// PME_Support, PME_Status and PME_En read as zero.
    fn update_pm_vconfig_bytes(&mut self, pos: usize) {
        let pmc = self.vword(pos + PCI_PM_PMC) & !PCI_PM_CAP_PME_MASK;
        self.set_vword(pos + PCI_PM_PMC, pmc);
        let ctrl =
            self.vword(pos + PCI_PM_CTRL) & !(PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS);
        self.set_vword(pos + PCI_PM_CTRL, ctrl);
    }

    /// `vfio_ecap_init()`: walks the extended capabilities.
    fn ecap_init<P: PhysConfig + ?Sized>(
        &mut self,
        phys: &mut P,
        notes: &mut InitNotes,
    ) -> Result<(), i32> {
        if !self.extended_caps {
            return Ok(());
        }
        let mut epos = PCI_CFG_SPACE_SIZE;
        let mut loops = self.cfg_size().saturating_sub(PCI_CFG_SPACE_SIZE) / PCI_CAP_SIZEOF;
        // The header whose next pointer skips a hidden capability.
        let mut prev: Option<usize> = None;
        let mut ecaps = 0;

        while loops != 0 && epos >= PCI_CFG_SPACE_SIZE {
            loops -= 1;
            let header = phys_read(phys, epos, 4)?;
            let ecap = pci_ext_cap_id(header);

            let mut len = 0;
            if let Some(&l) = PCI_EXT_CAP_LENGTH.get(usize::from(ecap)) {
                len = if l == VARIABLE {
                    self.ext_cap_len(phys, ecap, epos)?
                } else {
                    l
                };
            }

            let mut hidden = false;
            if len == 0 {
                // Not the first in the chain: skip over it.
                if let Some(prev) = prev {
                    epos = pci_ext_cap_next(header);
                    // CAST: pci_ext_cap_next() is at most 0xffc.
                    let v = (self.vread(prev, 4) & !(0xffc << 20)) | ((epos as u32) << 20);
                    self.vwrite(prev, 4, v);
                    continue;
                }
                // The first anchors the list: a placeholder whose direct
                // read shows only the next pointer.
                len = PCI_CAP_SIZEOF;
                hidden = true;
            }

            let len = self.claim(epos, len, ecap, notes);
            self.fill_vconfig_bytes(phys, epos, len)?;

            if hidden {
                let v = self.vread(epos, 4) & (0xffc << 20);
                self.vwrite(epos, 4, v);
            } else {
                ecaps += 1;
            }

            prev = Some(epos);
            epos = pci_ext_cap_next(header);
        }

        if ecaps == 0 {
            self.vwrite(PCI_CFG_SPACE_SIZE, 4, 0);
        }
        Ok(())
    }

    /// Records whether the device has extended capabilities: its first
    /// extended header is not zero (an error reads as all-ones).
    fn test_extended_caps<P: PhysConfig + ?Sized>(&mut self, phys: &mut P) {
        if self.cfg_size() > PCI_CFG_SPACE_SIZE {
            self.extended_caps = phys_read_or_ones(phys, PCI_CFG_SPACE_SIZE, 4) != 0;
        }
    }

    /// `vfio_cap_len()`: length of a standard capability of variable length.
    fn cap_len<P: PhysConfig + ?Sized>(
        &mut self,
        phys: &mut P,
        cap: u8,
        pos: usize,
    ) -> Result<usize, i32> {
        match cap {
            PCI_CAP_ID_MSI => self.msi_cap_len(phys, pos),
            PCI_CAP_ID_PCIX => {
                let cmd = read16(phys, pos + PCI_X_CMD)?;
                if pci_x_cmd_version(cmd) != 0 {
                    self.test_extended_caps(phys);
                    Ok(PCI_CAP_PCIX_SIZEOF_V2)
                } else {
                    Ok(PCI_CAP_PCIX_SIZEOF_V0)
                }
            }
            // The length follows the next pointer.
            PCI_CAP_ID_VNDR => Ok(read8(phys, pos + PCI_CAP_FLAGS)?.into()),
            PCI_CAP_ID_EXP => {
                self.test_extended_caps(phys);
                let flags = self.facts.pcie_flags;
                let rc_end = (flags & PCI_EXP_FLAGS_TYPE) >> 4 == PCI_EXP_TYPE_RC_END;
                Ok(match (flags & PCI_EXP_FLAGS_VERS == 1, rc_end) {
                    // "All Devices" only, no link.
                    (true, true) => PCI_CAP_EXP_RC_ENDPOINT_SIZEOF_V1,
                    (true, false) => PCI_CAP_EXP_ENDPOINT_SIZEOF_V1,
                    (false, true) => PCI_CAP_EXP_RC_ENDPOINT_SIZEOF_V2,
                    (false, false) => PCI_CAP_EXP_ENDPOINT_SIZEOF_V2,
                })
            }
            PCI_CAP_ID_HT => {
                let byte = read8(phys, pos + 3)?;
                Ok(if byte & HT_3BIT_CAP_MASK != 0 {
                    HT_CAP_SIZEOF_SHORT
                } else {
                    HT_CAP_SIZEOF_LONG
                })
            }
            PCI_CAP_ID_SATA => {
                let byte = read8(phys, pos + PCI_SATA_REGS)? & PCI_SATA_REGS_MASK;
                Ok(if byte == PCI_SATA_REGS_INLINE {
                    PCI_SATA_SIZEOF_LONG
                } else {
                    PCI_SATA_SIZEOF_SHORT
                })
            }
            _ => Ok(0),
        }
    }

    /// `vfio_msi_cap_len()`: 10 bytes, 4 more for 64-bit addresses, 10
    /// more for masking; the first MSI capability chooses `msi_perm`.
    fn msi_cap_len<P: PhysConfig + ?Sized>(
        &mut self,
        phys: &mut P,
        pos: usize,
    ) -> Result<usize, i32> {
        let flags = read16(phys, pos + PCI_MSI_FLAGS)?;
        let mut len = 10;
        if flags & PCI_MSI_FLAGS_64BIT != 0 {
            len += 4;
        }
        if flags & PCI_MSI_FLAGS_MASKBIT != 0 {
            len += 10;
        }
        if !self.has_msi_perm {
            self.has_msi_perm = true;
            self.msi_flags = flags;
        }
        Ok(len)
    }

    /// The permission bits of MSI capabilities.
    pub(super) fn msi_perm(&self) -> &'static perm::Perm {
        if self.has_msi_perm {
            perm::msi_perm(self.msi_flags)
        } else {
            &perm::DIRECT_RO
        }
    }

    /// `vfio_vc_cap_len()`: length of a VC, VC9 or MFVC capability.
    fn vc_cap_len<P: PhysConfig + ?Sized>(phys: &mut P, pos: usize) -> Result<usize, i32> {
        let cap1 = phys_read(phys, pos + PCI_VC_PORT_CAP1, 4)?;
        // CAST: masked to 3 bits.
        let evcc = (cap1 & PCI_VC_CAP1_EVCC) as usize;
        let cap2 = phys_read(phys, pos + PCI_VC_PORT_CAP2, 4)?;
        let phases = if cap2 & PCI_VC_CAP2_128_PHASE != 0 {
            128
        } else if cap2 & PCI_VC_CAP2_64_PHASE != 0 {
            64
        } else if cap2 & PCI_VC_CAP2_32_PHASE != 0 {
            32
        } else {
            0
        };
        let vc_arb = phases * 4;

        // Port and function arbitration tables are never writable, so
        // their exact size does not matter.
        let mut len = PCI_CAP_VC_BASE_SIZEOF + (1 + evcc) * PCI_CAP_VC_PER_VC_SIZEOF;
        if vc_arb != 0 {
            len = len.next_multiple_of(16) + vc_arb / 8;
        }
        Ok(len)
    }

    /// `vfio_ext_cap_len()`: length of an extended capability of variable
    /// length.
    fn ext_cap_len<P: PhysConfig + ?Sized>(
        &mut self,
        phys: &mut P,
        ecap: u16,
        epos: usize,
    ) -> Result<usize, i32> {
        match ecap {
            PCI_EXT_CAP_ID_VNDR => Ok(vsec_len(phys_read(phys, epos + PCI_VNDR_HEADER, 4)?)),
            PCI_EXT_CAP_ID_VC | PCI_EXT_CAP_ID_VC9 | PCI_EXT_CAP_ID_MFVC => {
                Self::vc_cap_len(phys, epos)
            }
            PCI_EXT_CAP_ID_ACS => {
                if read8(phys, epos + PCI_ACS_CAP)? & PCI_ACS_EC != 0 {
                    let byte = usize::from(read8(phys, epos + PCI_ACS_EGRESS_BITS)?);
                    let bits = if byte != 0 {
                        byte.next_multiple_of(32)
                    } else {
                        256
                    };
                    Ok(8 + bits / 8)
                } else {
                    Ok(8)
                }
            }
            PCI_EXT_CAP_ID_REBAR => {
                let byte = read8(phys, epos + PCI_REBAR_CTRL)?;
                let nbar = (byte & PCI_REBAR_CTRL_NBAR_MASK) >> PCI_REBAR_CTRL_NBAR_SHIFT;
                Ok(4 + usize::from(nbar) * 8)
            }
            PCI_EXT_CAP_ID_DPA => {
                let byte = read8(phys, epos + PCI_DPA_CAP)? & PCI_DPA_CAP_SUBSTATE_MASK;
                Ok(PCI_DPA_BASE_SIZEOF + usize::from(byte) + 1)
            }
            PCI_EXT_CAP_ID_TPH => {
                let dword = phys_read(phys, epos + PCI_TPH_CAP, 4)?;
                if dword & PCI_TPH_CAP_LOC_MASK == PCI_TPH_LOC_CAP {
                    // CAST: masked to 11 bits.
                    let sts = ((dword & PCI_TPH_CAP_ST_MASK) >> PCI_TPH_CAP_ST_SHIFT) as usize;
                    Ok(PCI_TPH_BASE_SIZEOF + sts * 2 + 2)
                } else {
                    Ok(PCI_TPH_BASE_SIZEOF)
                }
            }
            PCI_EXT_CAP_ID_DVSEC => Ok(vsec_len(phys_read(phys, epos + PCI_DVSEC_HEADER1, 4)?)),
            _ => Ok(0),
        }
    }
}

/// Whether no byte of `map` has an owner yet, eight bytes at a time: the
/// kernel is built without SIMD, and a byte loop over the capabilities of
/// igb cost about 1600 instructions an open.
fn all_unowned(map: &[u8]) -> bool {
    const UNOWNED: u64 = u64::from_ne_bytes([PCI_CAP_ID_INVALID; 8]);
    let mut chunks = map.chunks_exact(8);
    chunks
        .by_ref()
        .all(|c| <[u8; 8]>::try_from(c).ok().map(u64::from_ne_bytes) == Some(UNOWNED))
        && chunks.remainder().iter().all(|&b| b == PCI_CAP_ID_INVALID)
}
