// SPDX-License-Identifier: GPL-2.0

//! The migration state graph against a reference built from upstream's
//! documented arc lists, and the mlx5 arc classification.

use crate::mlx5_logic::errno::EINVAL;
use crate::mlx5_logic::state::*;
use std::collections::VecDeque;
use MigState::*;

const STOP_COPY: u32 = VFIO_MIGRATION_STOP_COPY;
const P2P: u32 = VFIO_MIGRATION_P2P;
const PRE_COPY: u32 = VFIO_MIGRATION_PRE_COPY;

/// Every combination of the three flags, plus a few with an unknown bit.
fn all_flags() -> Vec<u32> {
    let mut v: Vec<u32> = (0..8).collect();
    v.extend((0..8).map(|f| f | 1 << 8));
    v
}

/// States a device with `flags` has, from the uAPI comment on
/// `struct vfio_device_feature_migration` (ERROR cannot be asked for).
fn ref_supported(flags: u32, s: MigState) -> bool {
    let sc = flags & STOP_COPY != 0;
    let p2p = flags & P2P != 0;
    let pre = flags & PRE_COPY != 0;
    match s {
        Error => false,
        Stop | Running | StopCopy | Resuming => sc,
        RunningP2p => sc && p2p,
        PreCopy => sc && pre,
        PreCopyP2p => sc && p2p && pre,
    }
}

/// The arcs a driver implements, as listed in the comment of
/// `vfio_mig_get_next_state()`.
fn ref_arcs(flags: u32) -> Vec<(MigState, MigState)> {
    if flags & STOP_COPY == 0 {
        return vec![];
    }
    let p2p = flags & P2P != 0;
    let pre = flags & PRE_COPY != 0;
    let mut a = vec![
        (Resuming, Stop),
        (Stop, Resuming),
        (Stop, StopCopy),
        (StopCopy, Stop),
    ];
    if p2p {
        a.extend([
            (Running, RunningP2p),
            (RunningP2p, Running),
            (RunningP2p, Stop),
            (Stop, RunningP2p),
        ]);
    } else {
        a.extend([(Running, Stop), (Stop, Running)]);
    }
    if pre && !p2p {
        a.extend([(Running, PreCopy), (PreCopy, Running), (PreCopy, StopCopy)]);
    }
    if pre && p2p {
        a.extend([
            (PreCopy, Running),
            (PreCopy, PreCopyP2p),
            (PreCopyP2p, PreCopy),
            (PreCopyP2p, RunningP2p),
            (PreCopyP2p, StopCopy),
            (Running, PreCopy),
            (RunningP2p, PreCopyP2p),
        ]);
    }
    a
}

/// The uAPI's rules: shortest path over the arcs, no saving-group state
/// inside a path (unless the path never leaves the saving group, as
/// PRE_COPY -> PRE_COPY_P2P -> STOP_COPY keeps one data session),
/// STOP_COPY -> PRE_COPY(_P2P) refused.  Returns the whole
/// path, and panics if the shortest path is not unique (the rules would
/// not decide).
fn ref_path(flags: u32, cur: MigState, new: MigState) -> Result<Vec<MigState>, i32> {
    if !ref_supported(flags, cur) || !ref_supported(flags, new) {
        return Err(-EINVAL);
    }
    if cur == new {
        return Ok(vec![]);
    }
    if cur == StopCopy && matches!(new, PreCopy | PreCopyP2p) {
        return Err(-EINVAL);
    }
    let arcs = ref_arcs(flags);
    // BFS counting shortest paths.
    let mut dist = [usize::MAX; 8];
    let mut count = [0u32; 8];
    let mut prev = [None; 8];
    dist[cur as usize] = 0;
    count[cur as usize] = 1;
    let mut q = VecDeque::from([cur]);
    while let Some(at) = q.pop_front() {
        let in_session = cur.is_saving_group() && new.is_saving_group();
        if at != cur && at != new && at.is_saving_group() && !in_session {
            continue;
        }
        if at == new {
            continue;
        }
        for &(_, to) in arcs.iter().filter(|(from, _)| *from == at) {
            let d = dist[at as usize] + 1;
            if dist[to as usize] == usize::MAX {
                dist[to as usize] = d;
                count[to as usize] = count[at as usize];
                prev[to as usize] = Some(at);
                q.push_back(to);
            } else if dist[to as usize] == d {
                count[to as usize] += count[at as usize];
            }
        }
    }
    if dist[new as usize] == usize::MAX {
        return Err(-EINVAL);
    }
    assert_eq!(
        count[new as usize], 1,
        "flags {flags:#x}: {cur:?} -> {new:?} has several shortest paths"
    );
    let mut p = vec![new];
    let mut at = new;
    while let Some(b) = prev[at as usize] {
        if b == cur {
            break;
        }
        p.push(b);
        at = b;
    }
    p.reverse();
    Ok(p)
}

#[test]
fn next_state_matches_reference_for_every_pair_and_flag_set() {
    let mut checked = 0;
    for flags in all_flags() {
        for cur in MigState::ALL {
            for new in MigState::ALL {
                let want = ref_path(flags, cur, new).map(|p| p.first().copied().unwrap_or(cur));
                let got = next_state(flags, cur, new);
                assert_eq!(got, want, "flags {flags:#x}: {cur:?} -> {new:?}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 16 * 64);
}

#[test]
fn path_matches_reference_and_ends_in_target() {
    for flags in all_flags() {
        let arcs = ref_arcs(flags);
        for cur in MigState::ALL {
            for new in MigState::ALL {
                // Like a driver's loop, a device already there takes no step
                // and asks nothing of the graph.
                let want = if cur == new {
                    Ok(vec![])
                } else {
                    ref_path(flags, cur, new)
                };
                let got = path(flags, cur, new).map(|p| p.steps().to_vec());
                assert_eq!(got, want, "flags {flags:#x}: {cur:?} -> {new:?}");
                let Ok(steps) = got else { continue };
                assert_eq!(*steps.last().unwrap_or(&cur), new);
                assert!(steps.len() <= MAX_PATH);
                let mut at = cur;
                for s in steps {
                    assert!(
                        arcs.contains(&(at, s)),
                        "flags {flags:#x}: {cur:?} -> {new:?} uses {at:?} -> {s:?}"
                    );
                    assert!(ref_supported(flags, s));
                    at = s;
                }
            }
        }
    }
}

#[test]
fn upstream_documented_combinations() {
    let all = MLX5_MIGRATION_FLAGS;
    let cases: &[(MigState, &[MigState])] = &[
        (PreCopy, &[PreCopyP2p, StopCopy]),
        (PreCopy, &[Running, RunningP2p, Stop, Resuming]),
        (PreCopyP2p, &[RunningP2p, Stop, Resuming]),
        (Resuming, &[Stop, RunningP2p, Running, PreCopy]),
        (Resuming, &[Stop, RunningP2p, PreCopyP2p]),
        (Resuming, &[Stop, StopCopy]),
        (Running, &[RunningP2p, Stop, StopCopy]),
        (Running, &[RunningP2p, PreCopyP2p]),
        (Stop, &[RunningP2p, Running, PreCopy]),
        (StopCopy, &[Stop, Resuming]),
        (StopCopy, &[Stop, RunningP2p, Running]),
    ];
    for (cur, steps) in cases {
        let new = *steps.last().unwrap();
        assert_eq!(path(all, *cur, new).unwrap().steps(), *steps, "{cur:?}");
    }
    // Without P2P the RUNNING_P2P hops vanish.
    let no_p2p = STOP_COPY | PRE_COPY;
    assert_eq!(
        path(no_p2p, Resuming, PreCopy).unwrap().steps(),
        &[Stop, Running, PreCopy]
    );
    assert_eq!(
        path(STOP_COPY, Running, StopCopy).unwrap().steps(),
        &[Stop, StopCopy]
    );
}

#[test]
fn blocked_and_unsupported_targets_are_einval() {
    let all = MLX5_MIGRATION_FLAGS;
    assert_eq!(next_state(all, StopCopy, PreCopy), Err(-EINVAL));
    assert_eq!(next_state(all, StopCopy, PreCopyP2p), Err(-EINVAL));
    for s in MigState::ALL {
        assert_eq!(next_state(all, s, Error), Err(-EINVAL), "{s:?}");
        assert_eq!(next_state(all, Error, s), Err(-EINVAL), "{s:?}");
    }
    assert_eq!(next_state(STOP_COPY, Running, RunningP2p), Err(-EINVAL));
    assert_eq!(next_state(STOP_COPY | P2P, Running, PreCopy), Err(-EINVAL));
    assert_eq!(next_state(0, Running, Running), Err(-EINVAL));
    for raw in [8, 9, 100, u32::MAX] {
        assert_eq!(next_state_raw(all, Running, raw), Err(-EINVAL), "{raw}");
    }
    assert_eq!(next_state_raw(all, Running, 3), Ok(RunningP2p));
    for s in MigState::ALL {
        assert_eq!(MigState::from_raw(s.raw()), Some(s));
    }
}

#[test]
fn mlx5_implements_exactly_the_required_arcs() {
    let required = ref_arcs(MLX5_MIGRATION_FLAGS);
    for cur in MigState::ALL {
        for new in MigState::ALL {
            assert_eq!(
                mlx5_step(cur, new).is_some(),
                required.contains(&(cur, new)),
                "{cur:?} -> {new:?}"
            );
        }
    }
}

#[test]
fn mlx5_arc_actions() {
    let want = [
        (RunningP2p, Stop, Mlx5Step::SuspendResponder),
        (Stop, RunningP2p, Mlx5Step::ResumeResponder),
        (Running, RunningP2p, Mlx5Step::SuspendInitiator),
        (PreCopy, PreCopyP2p, Mlx5Step::SuspendInitiator),
        (RunningP2p, Running, Mlx5Step::ResumeInitiator),
        (PreCopyP2p, PreCopy, Mlx5Step::ResumeInitiator),
        (Stop, StopCopy, Mlx5Step::StartStopCopy),
        (StopCopy, Stop, Mlx5Step::EndStopCopy),
        (PreCopy, Running, Mlx5Step::AbortPreCopy),
        (PreCopyP2p, RunningP2p, Mlx5Step::AbortPreCopy),
        (Stop, Resuming, Mlx5Step::StartResume),
        (Resuming, Stop, Mlx5Step::EndResume),
        (Running, PreCopy, Mlx5Step::StartPreCopy),
        (RunningP2p, PreCopyP2p, Mlx5Step::StartPreCopy),
        (PreCopyP2p, StopCopy, Mlx5Step::PreCopyToStopCopy),
    ];
    for (cur, new, step) in want {
        assert_eq!(mlx5_step(cur, new), Some(step), "{cur:?} -> {new:?}");
    }
    use VhcaCommand::*;
    assert_eq!(Mlx5Step::SuspendResponder.vhca_command(), Some(Suspend(1)));
    assert_eq!(Mlx5Step::PreCopyToStopCopy.vhca_command(), Some(Suspend(1)));
    assert_eq!(Mlx5Step::SuspendInitiator.vhca_command(), Some(Suspend(0)));
    assert_eq!(Mlx5Step::ResumeResponder.vhca_command(), Some(Resume(0)));
    assert_eq!(Mlx5Step::ResumeInitiator.vhca_command(), Some(Resume(1)));
    assert_eq!(Mlx5Step::StartStopCopy.vhca_command(), None);
}

#[test]
fn mlx5_paths_use_only_its_arcs_and_open_files_last() {
    let flags = MLX5_MIGRATION_FLAGS;
    let mut opened = 0;
    for cur in MigState::ALL {
        for new in MigState::ALL {
            let Ok(p) = path(flags, cur, new) else {
                continue;
            };
            let mut at = cur;
            for (i, s) in p.steps().iter().enumerate() {
                let step = mlx5_step(at, *s)
                    .unwrap_or_else(|| panic!("{cur:?} -> {new:?}: no mlx5 arc {at:?} -> {s:?}"));
                if step.opens_file() {
                    assert_eq!(i + 1, p.steps().len(), "{cur:?} -> {new:?}");
                    opened += 1;
                }
                at = *s;
            }
        }
    }
    // Paths into STOP_COPY (from 4 states), PRE_COPY (4), PRE_COPY_P2P (4)
    // and RESUMING (6) open a file; STOP_COPY from PRE_COPY(_P2P) does not.
    assert_eq!(opened, 4 + 4 + 4 + 6);
}
