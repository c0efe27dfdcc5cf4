// SPDX-License-Identifier: GPL-2.0

//! A fake config space device, realistic config spaces (Intel 82576 PF and
//! VF, QEMU's edu device) and shorthands to read and write as the user.

use crate::logic::config::*;
use crate::logic::uapi::{VFIO_PCI_MSI_IRQ_INDEX, VFIO_PCI_NUM_IRQS};

/// What the fake saw, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ev {
    /// A config read of (pos, bytes).
    Read(usize, usize),
    /// A config write of (pos, bytes, value).
    Write(usize, usize, u32),
    /// `pci_read_vpd()` at addr.
    VpdRead(u16),
    /// `pci_write_vpd()` at addr.
    VpdWrite(u16, [u8; 4]),
    /// `memory_lock` taken.
    Lock(MemoryLock),
    /// `memory_lock` released.
    Unlock(Option<bool>),
    /// Effects performed.
    Perform(Effects),
}

/// A device: config bytes, per-byte writable masks, VPD, and a log.
pub struct Fake {
    pub cfg: Vec<u8>,
    pub wmask: Vec<u8>,
    pub size: usize,
    pub vpd: Vec<u8>,
    pub vpd_fails: bool,
    /// Config accesses touching this byte fail with `EIO`.
    pub fail_at: Option<usize>,
    pub log: Vec<Ev>,
}

impl Fake {
    pub fn new(size: usize) -> Self {
        Self {
            cfg: vec![0; 4096],
            wmask: vec![0xff; 4096],
            size,
            vpd: (0..=255u8).collect(),
            vpd_fails: false,
            fail_at: None,
            log: Vec::new(),
        }
    }

    pub fn set32(&mut self, pos: usize, val: u32) -> &mut Self {
        self.cfg[pos..pos + 4].copy_from_slice(&val.to_le_bytes());
        self
    }

    pub fn set16(&mut self, pos: usize, val: u16) -> &mut Self {
        self.cfg[pos..pos + 2].copy_from_slice(&val.to_le_bytes());
        self
    }

    pub fn set8(&mut self, pos: usize, val: u8) -> &mut Self {
        self.cfg[pos] = val;
        self
    }

    pub fn get32(&self, pos: usize) -> u32 {
        u32::from_le_bytes(self.cfg[pos..pos + 4].try_into().unwrap())
    }

    pub fn get16(&self, pos: usize) -> u16 {
        u16::from_le_bytes(self.cfg[pos..pos + 2].try_into().unwrap())
    }

    /// The config writes logged, as (pos, bytes, value).
    pub fn writes(&self) -> Vec<(usize, usize, u32)> {
        self.log
            .iter()
            .filter_map(|e| match *e {
                Ev::Write(p, n, v) => Some((p, n, v)),
                _ => None,
            })
            .collect()
    }

    /// The config reads logged, as (pos, bytes).
    pub fn reads(&self) -> Vec<(usize, usize)> {
        self.log
            .iter()
            .filter_map(|e| match *e {
                Ev::Read(p, n) => Some((p, n)),
                _ => None,
            })
            .collect()
    }

    /// The effects performed.
    pub fn performed(&self) -> Vec<Effects> {
        self.log
            .iter()
            .filter_map(|e| match *e {
                Ev::Perform(fx) => Some(fx),
                _ => None,
            })
            .collect()
    }

    fn check(&self, pos: usize, n: usize) -> Result<(), i32> {
        if pos + n > self.size || self.fail_at.is_some_and(|f| (pos..pos + n).contains(&f)) {
            Err(-EIO)
        } else {
            Ok(())
        }
    }
}

impl PhysConfig for Fake {
    fn read(&mut self, pos: u16, width: Width) -> Result<u32, i32> {
        let (pos, n) = (usize::from(pos), width.bytes());
        self.check(pos, n)?;
        self.log.push(Ev::Read(pos, n));
        let mut b = [0u8; 4];
        b[..n].copy_from_slice(&self.cfg[pos..pos + n]);
        Ok(u32::from_le_bytes(b))
    }

    fn write(&mut self, pos: u16, width: Width, val: u32) -> Result<(), i32> {
        let (pos, n) = (usize::from(pos), width.bytes());
        self.check(pos, n)?;
        self.log.push(Ev::Write(pos, n, val));
        for (i, b) in val.to_le_bytes()[..n].iter().enumerate() {
            let m = self.wmask[pos + i];
            self.cfg[pos + i] = (self.cfg[pos + i] & !m) | (b & m);
        }
        Ok(())
    }

    fn read_vpd(&mut self, addr: u16) -> Result<[u8; 4], i32> {
        self.log.push(Ev::VpdRead(addr));
        if self.vpd_fails {
            return Err(-EIO);
        }
        let a = usize::from(addr);
        let mut b = [0u8; 4];
        for (i, byte) in b.iter_mut().enumerate() {
            *byte = self.vpd.get(a + i).copied().unwrap_or(0);
        }
        Ok(b)
    }

    fn write_vpd(&mut self, addr: u16, data: [u8; 4]) -> Result<(), i32> {
        self.log.push(Ev::VpdWrite(addr, data));
        if self.vpd_fails {
            return Err(-EIO);
        }
        let a = usize::from(addr);
        self.vpd[a..a + 4].copy_from_slice(&data);
        Ok(())
    }
}

impl RwHost for Fake {
    fn memory_lock(&mut self, mode: MemoryLock) {
        self.log.push(Ev::Lock(mode));
    }

    fn memory_unlock(&mut self, memory_enabled: Option<bool>) {
        self.log.push(Ev::Unlock(memory_enabled));
    }

    fn perform(&mut self, effects: Effects) {
        self.log.push(Ev::Perform(effects));
    }
}

/// A device and the facts the kernel would pass about it.
pub struct Dev {
    pub fake: Fake,
    pub facts: DeviceFacts,
}

/// No interrupts in use.
pub const NO_IRQ: RwContext = RwContext {
    irq_type: VFIO_PCI_NUM_IRQS,
    msi_qmax: 0,
};

/// MSI in use with `2^qmax` vectors.
pub fn msi_irq(msi_qmax: u8) -> RwContext {
    RwContext {
        irq_type: VFIO_PCI_MSI_IRQ_INDEX,
        msi_qmax,
    }
}

fn mem32(start: u64, len: u64) -> BarResource {
    BarResource {
        start,
        len,
        ..Default::default()
    }
}

/// Intel 82576 (igb) PF, 8086:10c9: PM, MSI (64-bit, maskable), MSI-X,
/// PCIe v2 endpoint and VPD; AER, DSN, ARI and SR-IOV extended caps.
pub fn igb_pf() -> Dev {
    let mut f = Fake::new(4096);
    f.set32(0x00, 0x10c9_8086)
        .set32(0x04, 0x0010_0006)
        .set32(0x08, 0x0200_0001)
        .set32(0x0c, 0x0080_0010)
        .set32(0x10, 0xfbc2_0000)
        .set32(0x14, 0xfb80_0000)
        .set32(0x18, 0x0000_e001)
        .set32(0x1c, 0xfbc4_4000)
        .set32(0x2c, 0xa04c_8086)
        .set32(0x30, 0xfb78_0000)
        .set8(0x34, 0x40)
        .set32(0x3c, 0x0000_010b);
    // PM: PME from D0/D3hot/D3cold, PME_Status and PME_En set.
    f.set32(0x40, 0xc823_5001).set32(0x44, 0x0000_8108);
    // MSI: 64-bit, per-vector masking, one vector.
    f.set32(0x50, 0x0180_7005);
    // MSI-X: 10 vectors, table and PBA in BAR3.
    f.set32(0x70, 0x0009_a011)
        .set32(0x74, 0x0000_0003)
        .set32(0x78, 0x0000_2003);
    // PCIe v2 endpoint, FLR capable, MRRS 512, MPS 128.
    f.set32(0xa0, 0x0002_e010)
        .set32(0xa4, 0x1000_8cc2)
        .set32(0xa8, 0x0000_2810)
        .set32(0xac, 0x0003_6c81)
        .set32(0xb0, 0x1081_0040)
        .set32(0xc4, 0x0000_001f);
    // VPD.
    f.set32(0xe0, 0x0000_0003);
    // AER -> DSN -> ARI -> SR-IOV.
    f.set32(0x100, 0x1401_0001)
        .set32(0x10c, 0x0006_2030)
        .set32(0x114, 0x0000_2000)
        .set32(0x118, 0x0000_00a0);
    f.set32(0x140, 0x1501_0003)
        .set32(0x144, 0x1234_5678)
        .set32(0x148, 0x001b_21ff);
    f.set32(0x150, 0x1601_000e).set32(0x154, 0x0000_0100);
    f.set32(0x160, 0x0001_0010)
        .set32(0x164, 0x0000_0002)
        .set32(0x16c, 0x0008_0008)
        .set32(0x174, 0x0002_0180)
        .set32(0x178, 0x10ca_0000);

    let mut facts = DeviceFacts {
        cfg_size: 4096,
        vendor: 0x8086,
        device: 0x10c9,
        intx_irq: true,
        pcie_flags: 0x0002,
        rom: mem32(0xfb78_0000, 0x8_0000),
        ..Default::default()
    };
    facts.bars[0] = mem32(0xfbc2_0000, 0x2_0000);
    facts.bars[1] = mem32(0xfb80_0000, 0x40_0000);
    facts.bars[2] = BarResource {
        start: 0xe000,
        len: 0x20,
        io: true,
        ..Default::default()
    };
    facts.bars[3] = mem32(0xfbc4_4000, 0x4000);
    Dev { fake: f, facts }
}

/// Intel 82576 VF, 8086:10ca: IDs read as all-ones, no memory enable bit,
/// BARs in the PF (64-bit prefetchable); MSI-X and PCIe; AER and ARI.
pub fn igb_vf() -> Dev {
    let mut f = Fake::new(4096);
    f.set32(0x00, 0xffff_ffff)
        .set32(0x04, 0x0010_0000)
        .set32(0x08, 0x0200_0001)
        .set32(0x2c, 0xa04c_8086)
        .set8(0x34, 0x70);
    f.wmask[0x04] = !0x02;
    f.set32(0x70, 0x0002_a011)
        .set32(0x74, 0x0000_0003)
        .set32(0x78, 0x0000_2003);
    f.set32(0xa0, 0x0002_0010)
        .set32(0xa4, 0x1000_8cc2)
        .set32(0xa8, 0x0000_2810);
    f.set32(0x100, 0x1501_0001).set32(0x150, 0x0001_000e);

    let pref64 = |start| BarResource {
        start,
        len: 0x4000,
        prefetch: true,
        mem64: true,
        ..Default::default()
    };
    let mut facts = DeviceFacts {
        cfg_size: 4096,
        vendor: 0x8086,
        device: 0x10ca,
        is_virtfn: true,
        no_command_memory: true,
        pcie_flags: 0x0002,
        ..Default::default()
    };
    facts.bars[0] = pref64(0x2_0000_0000);
    facts.bars[3] = pref64(0x2_0001_0000);
    Dev { fake: f, facts }
}

/// QEMU's edu device, 1234:11e8: conventional PCI, 1 MiB BAR0, 64-bit MSI.
pub fn edu() -> Dev {
    let mut f = Fake::new(256);
    f.set32(0x00, 0x11e8_1234)
        .set32(0x04, 0x0010_0002)
        .set32(0x08, 0x00ff_0010)
        .set32(0x10, 0xfea0_0000)
        .set32(0x2c, 0x1100_1af4)
        .set8(0x34, 0x40)
        .set32(0x3c, 0x0000_010b);
    f.set32(0x40, 0x0080_0005);
    let mut facts = DeviceFacts {
        cfg_size: 256,
        vendor: 0x1234,
        device: 0x11e8,
        intx_irq: true,
        ..Default::default()
    };
    facts.bars[0] = mem32(0xfea0_0000, 0x10_0000);
    Dev { fake: f, facts }
}

/// A conventional device with a capability list starting at `first`,
/// to which tests add capabilities.
pub fn conventional(first: u8) -> Dev {
    let mut f = Fake::new(256);
    f.set32(0x00, 0x5678_1234)
        .set32(0x04, 0x0010_0002)
        .set8(0x34, first)
        .set32(0x3c, 0x0000_010b);
    let facts = DeviceFacts {
        cfg_size: 256,
        vendor: 0x1234,
        device: 0x5678,
        intx_irq: true,
        ..Default::default()
    };
    Dev { fake: f, facts }
}

/// A PCIe v2 endpoint with 4096 bytes of config space: PCIe capability at
/// 0x40 (no next), extended capabilities added by tests from 0x100.
pub fn pcie() -> Dev {
    let mut d = conventional(0x40);
    d.fake.size = 4096;
    d.fake.set32(0x40, 0x0002_0010);
    d.facts.cfg_size = 4096;
    d.facts.pcie_flags = 0x0002;
    d
}

impl Dev {
    /// Opens the device: `vfio_config_init()`; the log starts empty.
    pub fn open(&mut self) -> Box<VirtConfig> {
        let mut vc = Box::new(VirtConfig::new());
        vc.init(&mut self.fake, &self.facts).expect("init");
        self.fake.log.clear();
        vc
    }

    /// Opens the device and returns the init notes too.
    pub fn open_notes(&mut self) -> (Box<VirtConfig>, InitNotes) {
        let mut vc = Box::new(VirtConfig::new());
        let notes = vc.init(&mut self.fake, &self.facts).expect("init");
        self.fake.log.clear();
        (vc, notes)
    }
}

/// Reads `len` bytes at `pos` as the user.
pub fn rd(vc: &mut VirtConfig, f: &mut Fake, pos: u64, len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    let n = vc.rw(f, &NO_IRQ, pos, &mut buf, false).expect("read");
    assert_eq!(n, len);
    buf
}

pub fn rd32(vc: &mut VirtConfig, f: &mut Fake, pos: u64) -> u32 {
    u32::from_le_bytes(rd(vc, f, pos, 4).try_into().unwrap())
}

pub fn rd16(vc: &mut VirtConfig, f: &mut Fake, pos: u64) -> u16 {
    u16::from_le_bytes(rd(vc, f, pos, 2).try_into().unwrap())
}

pub fn rd8(vc: &mut VirtConfig, f: &mut Fake, pos: u64) -> u8 {
    rd(vc, f, pos, 1)[0]
}

/// Writes `bytes` at `pos` as the user, with interrupt state `ctx`.
pub fn wr_ctx(vc: &mut VirtConfig, f: &mut Fake, ctx: &RwContext, pos: u64, bytes: &[u8]) {
    let mut buf = bytes.to_vec();
    let n = vc.rw(f, ctx, pos, &mut buf, true).expect("write");
    assert_eq!(n, bytes.len());
}

pub fn wr32(vc: &mut VirtConfig, f: &mut Fake, pos: u64, val: u32) {
    wr_ctx(vc, f, &NO_IRQ, pos, &val.to_le_bytes());
}

pub fn wr16(vc: &mut VirtConfig, f: &mut Fake, pos: u64, val: u16) {
    wr_ctx(vc, f, &NO_IRQ, pos, &val.to_le_bytes());
}

pub fn wr8(vc: &mut VirtConfig, f: &mut Fake, pos: u64, val: u8) {
    wr_ctx(vc, f, &NO_IRQ, pos, &[val]);
}

/// The user-visible standard capability chain as (pos, id).
pub fn std_chain(vc: &mut VirtConfig, f: &mut Fake) -> Vec<(u8, u8)> {
    let mut out = Vec::new();
    if rd16(vc, f, 0x06) & 0x10 == 0 {
        return out;
    }
    let mut pos = rd8(vc, f, 0x34);
    while pos != 0 && out.len() < 48 {
        let hdr = rd16(vc, f, pos.into());
        out.push((pos, hdr as u8));
        pos = (hdr >> 8) as u8;
    }
    out
}

/// The user-visible extended capability chain as (pos, id).
pub fn ext_chain(vc: &mut VirtConfig, f: &mut Fake) -> Vec<(u16, u16)> {
    let mut out = Vec::new();
    let mut pos = 0x100u16;
    while pos >= 0x100 && out.len() < 960 {
        let hdr = rd32(vc, f, pos.into());
        if hdr == 0 {
            break;
        }
        out.push((pos, hdr as u16));
        pos = ((hdr >> 20) & 0xffc) as u16;
    }
    out
}

/// The run of `pci_config_map` bytes equal to the one at `pos`.
pub fn map_extent(vc: &VirtConfig, pos: usize) -> usize {
    let map = vc.pci_config_map();
    map[pos..].iter().take_while(|&&b| b == map[pos]).count()
}
