//! Decoding a bill download as it arrives: sniff the gzip magic bytes,
//! decompress chunk by chunk, and hash the decompressed bytes on their way
//! to the output, so the bill is held once.

use std::io::{self, Write};

use flate2::write::MultiGzDecoder;
use sha1::{Digest, Sha1};

use crate::media::hex;

/// The first two bytes of every gzip member (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Everything written passes through SHA-1 on its way to `out`.
struct Hashing<W> {
    hasher: Sha1,
    out: W,
    written: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.out.write(buf)?;
        // A writer never reports more than it was given; stay safe anyway.
        self.hasher.update(buf.get(..written).unwrap_or(buf));
        self.written = self
            .written
            .saturating_add(u64::try_from(written).unwrap_or(u64::MAX));
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

enum State<W: Write> {
    /// Fewer than two bytes seen: gzip or not is still open.
    Sniffing { head: Vec<u8>, out: Hashing<W> },
    /// Not gzip: the bytes are the bill.
    Plain(Hashing<W>),
    /// Gzip: the decompressed bytes are the bill.
    Gzip(MultiGzDecoder<Hashing<W>>),
    /// A write failed; nothing more is accepted.
    Failed,
}

/// A finished decode.
pub(crate) struct Decoded<W> {
    /// The output writer, holding (or having received) the bill.
    pub(crate) out: W,
    /// The lower-case hex SHA-1 of the decompressed bill.
    pub(crate) sha1: String,
    /// The decompressed size.
    pub(crate) len: u64,
    /// Whether the download was gzip.
    pub(crate) compressed: bool,
}

/// Feeds downloaded chunks in, writes the decompressed bill to `W`.
///
/// Errors are [`io::Error`]s: from the gzip decoder (corrupt data) or from
/// `W` itself.
pub(crate) struct BillDecoder<W: Write> {
    state: State<W>,
}

impl<W: Write> BillDecoder<W> {
    /// A decoder writing to `out`.
    pub(crate) fn new(out: W) -> Self {
        BillDecoder {
            state: State::Sniffing {
                head: Vec::with_capacity(2),
                out: Hashing {
                    hasher: Sha1::new(),
                    out,
                    written: 0,
                },
            },
        }
    }

    /// Feeds the next downloaded chunk.
    pub(crate) fn push(&mut self, chunk: &[u8]) -> io::Result<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        match &mut self.state {
            State::Sniffing { head, .. } => {
                head.extend_from_slice(chunk);
                if head.len() >= GZIP_MAGIC.len() {
                    self.decide()?;
                }
                Ok(())
            }
            State::Plain(out) => out.write_all(chunk),
            State::Gzip(decoder) => decoder.write_all(chunk),
            State::Failed => Err(io::Error::other("the bill decoder failed earlier")),
        }
        .inspect_err(|_| self.state = State::Failed)
    }

    /// Leaves `Sniffing` for `Plain` or `Gzip`, feeding what was held back.
    fn decide(&mut self) -> io::Result<()> {
        let State::Sniffing { head, out } = std::mem::replace(&mut self.state, State::Failed)
        else {
            return Ok(());
        };
        if head.starts_with(&GZIP_MAGIC) {
            let mut decoder = MultiGzDecoder::new(out);
            decoder.write_all(&head)?;
            self.state = State::Gzip(decoder);
        } else {
            let mut out = out;
            out.write_all(&head)?;
            self.state = State::Plain(out);
        }
        Ok(())
    }

    /// The output writer, to drain what was decoded so far. Gzip output
    /// may lag one chunk behind until [`BillDecoder::finish`].
    pub(crate) fn output_mut(&mut self) -> Option<&mut W> {
        match &mut self.state {
            State::Sniffing { out, .. } | State::Plain(out) => Some(&mut out.out),
            State::Gzip(decoder) => Some(&mut decoder.get_mut().out),
            State::Failed => None,
        }
    }

    /// Ends the download: completes decompression (checking the gzip
    /// trailer) and returns the output with the bill's SHA-1.
    pub(crate) fn finish(mut self) -> io::Result<Decoded<W>> {
        if matches!(self.state, State::Sniffing { .. }) {
            // Fewer than two bytes in all: too short to be gzip.
            let State::Sniffing { head, mut out } =
                std::mem::replace(&mut self.state, State::Failed)
            else {
                return Err(io::Error::other("unreachable decoder state"));
            };
            out.write_all(&head)?;
            self.state = State::Plain(out);
        }
        let (hashing, compressed) = match self.state {
            State::Plain(out) => (out, false),
            State::Gzip(mut decoder) => {
                decoder.try_finish()?;
                (decoder.finish()?, true)
            }
            State::Sniffing { .. } | State::Failed => {
                return Err(io::Error::other("the bill decoder failed earlier"));
            }
        };
        Ok(Decoded {
            sha1: hex(&hashing.hasher.finalize()),
            len: hashing.written,
            out: hashing.out,
            compressed,
        })
    }
}

#[cfg(test)]
mod tests {
    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn decode_in_chunks(input: &[u8], chunk: usize) -> io::Result<Decoded<Vec<u8>>> {
        let mut decoder = BillDecoder::new(Vec::new());
        for piece in input.chunks(chunk) {
            decoder.push(piece)?;
        }
        decoder.finish()
    }

    const BILL: &[u8] = "交易时间,商户号\n`2020-03-05 09:25:07,`10000100\n".as_bytes();
    /// SHA-1 of [`BILL`].
    fn bill_sha1() -> String {
        hex(&Sha1::digest(BILL))
    }

    #[test]
    fn plain_and_gzip_decode_to_the_same_bytes_in_any_chunking() {
        let compressed = gzip(BILL);
        for chunk in [1, 2, 3, 7, 1000] {
            let plain = decode_in_chunks(BILL, chunk).unwrap();
            assert_eq!(plain.out, BILL);
            assert!(!plain.compressed);
            assert_eq!(plain.sha1, bill_sha1());
            let unzipped = decode_in_chunks(&compressed, chunk).unwrap();
            assert_eq!(unzipped.out, BILL, "chunk {chunk}");
            assert!(unzipped.compressed);
            assert_eq!(unzipped.sha1, bill_sha1());
            assert_eq!(unzipped.len, BILL.len() as u64);
        }
    }

    #[test]
    fn tiny_and_empty_bodies_are_plain() {
        let empty = decode_in_chunks(b"", 1).unwrap();
        assert!(empty.out.is_empty() && !empty.compressed);
        assert_eq!(empty.sha1, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        let one = decode_in_chunks(&[0x1f], 1).unwrap();
        assert_eq!(one.out, [0x1f]);
    }

    #[test]
    fn concatenated_gzip_members_are_one_bill() {
        let (a, b) = BILL.split_at(10);
        let mut both = gzip(a);
        both.extend(gzip(b));
        let decoded = decode_in_chunks(&both, 5).unwrap();
        assert_eq!(decoded.out, BILL);
    }

    #[test]
    fn corrupt_or_truncated_gzip_is_an_error_never_a_panic() {
        let compressed = gzip(BILL);
        // Truncated anywhere after the magic bytes.
        for cut in 2..compressed.len() {
            assert!(
                decode_in_chunks(&compressed[..cut], 4).is_err(),
                "truncated at {cut} of {}",
                compressed.len()
            );
        }
        // A flipped bit in the deflate data or the CRC.
        for at in 10..compressed.len() {
            let mut bad = compressed.clone();
            bad[at] ^= 0x40;
            if let Ok(decoded) = decode_in_chunks(&bad, 3) {
                // Some bits do not matter; whatever came out, the hash
                // is the hash of what came out.
                assert_eq!(
                    decoded.sha1,
                    hex(&Sha1::digest(&decoded.out)),
                    "flip at {at}"
                );
            }
        }
        // Magic bytes and garbage.
        assert!(decode_in_chunks(&[0x1f, 0x8b, 1, 2, 3, 4, 5, 6, 7, 8, 9], 2).is_err());
        // Trailing garbage after a member.
        let mut trailing = compressed.clone();
        trailing.extend_from_slice(b"garbage");
        assert!(decode_in_chunks(&trailing, 6).is_err());
    }

    #[test]
    fn output_can_be_drained_as_it_comes() {
        let data = b"0123456789".repeat(100_000);
        let compressed = gzip(&data);
        let mut decoder = BillDecoder::new(Vec::new());
        let mut drained = Vec::new();
        for piece in compressed.chunks(4096) {
            decoder.push(piece).unwrap();
            if let Some(out) = decoder.output_mut() {
                drained.append(out);
            }
        }
        let decoded = decoder.finish().unwrap();
        drained.extend(decoded.out);
        assert_eq!(drained, data);
        assert_eq!(decoded.len, data.len() as u64);
    }
}
