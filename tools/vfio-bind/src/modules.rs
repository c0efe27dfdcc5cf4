//! Finding and reading `modules.alias`.

use std::{
    fs,
    io::Read,
    path::{
        Path,
        PathBuf, //
    },
};

use crate::error::Error;

/// libvirt reads at most this much of `modules.alias` and fails beyond it
/// (`virFileReadAll(path, 8 * 1024 * 1024, ...)`).
pub const MAX_ALIAS_FILE: u64 = 8 * 1024 * 1024;

/// Environment variable naming the `modules.alias` file.
pub const ENV_MODULES_ALIAS: &str = "VFIO_BIND_MODULES_ALIAS";

/// The running kernel's release, as `uname -r` prints it.
pub fn kernel_release() -> Result<String, Error> {
    let path = "/proc/sys/kernel/osrelease";
    fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .map_err(|e| Error::AliasFile {
            path: PathBuf::from(path),
            detail: format!("cannot find the kernel release: {e}"),
        })
}

/// Where `modules.alias` is: `--modules-alias FILE`, else `--modules-dir
/// DIR` (`DIR/modules.alias` if that exists, else
/// `DIR/$(uname -r)/modules.alias`), else `$VFIO_BIND_MODULES_ALIAS`, else
/// `/lib/modules/$(uname -r)/modules.alias`.
pub fn locate(
    file: Option<&Path>,
    dir: Option<&Path>,
    env: Option<&Path>,
    release: &dyn Fn() -> Result<String, Error>,
) -> Result<PathBuf, Error> {
    if let Some(file) = file {
        return Ok(file.to_path_buf());
    }
    if let Some(dir) = dir {
        let direct = dir.join("modules.alias");
        if direct.exists() {
            return Ok(direct);
        }
        return Ok(dir.join(release()?).join("modules.alias"));
    }
    if let Some(env) = env {
        return Ok(env.to_path_buf());
    }
    Ok(Path::new("/lib/modules")
        .join(release()?)
        .join("modules.alias"))
}

/// Reads `modules.alias`, refusing a file larger than libvirt would read.
pub fn read(path: &Path) -> Result<String, Error> {
    let err = |detail: String| Error::AliasFile {
        path: path.to_path_buf(),
        detail,
    };
    let file = fs::File::open(path).map_err(|e| err(e.to_string()))?;
    let mut bytes = Vec::new();
    file.take(MAX_ALIAS_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| err(e.to_string()))?;
    if bytes.len() as u64 > MAX_ALIAS_FILE {
        return Err(err(format!(
            "larger than {MAX_ALIAS_FILE} bytes, which libvirt refuses to read"
        )));
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
