//! Line ends made `\n` as the file is read.

use std::io::{self, Read};

/// Normalises line endings to `\n` (`\r\n` and a lone `\r`, as old Mac
/// Excel writes, both become one `\n`), so that counting `\n` gives the
/// physical line; and notes whether the stream held a NUL byte, which the
/// record checks look for.
pub(super) struct LineEnds<R> {
    inner: R,
    after_cr: bool,
    pub(super) saw_nul: bool,
}

impl<R> LineEnds<R> {
    pub(super) fn new(inner: R) -> Self {
        LineEnds {
            inner,
            after_cr: false,
            saw_nul: false,
        }
    }
}

impl<R: Read> Read for LineEnds<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let n = self.inner.read(buf)?;
            if n == 0 {
                return Ok(0);
            }
            // The common case: nothing to normalise and no NUL, so the chunk
            // passes as it is.
            if !self.after_cr && memchr::memchr2(b'\r', 0, &buf[..n]).is_none() {
                return Ok(n);
            }
            let mut out = 0;
            for i in 0..n {
                let byte = buf[i];
                if byte == b'\n' && self.after_cr {
                    self.after_cr = false;
                    continue;
                }
                self.after_cr = byte == b'\r';
                let byte = if byte == b'\r' { b'\n' } else { byte };
                self.saw_nul |= byte == 0;
                buf[out] = byte;
                out += 1;
            }
            // A read that was only the `\n` of a `\r\n` split across reads
            // yields nothing; 0 would mean end of file, so read on.
            if out > 0 {
                return Ok(out);
            }
        }
    }
}
