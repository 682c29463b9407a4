//! The reader against the csv crate, line ends, sniffing and batches.

use super::*;
use crate::recipients::address::is_deliverable;

#[test]
fn sniffs_semicolon_of_dutch_excel() {
    let text = b"email;naam;bedrag\njan@example.nl;Jan;12,50\n";
    assert_eq!(sniff_delimiter(text), b';');
}

#[test]
fn sniffs_tab() {
    assert_eq!(sniff_delimiter(b"email\tname\na@b.nl\tA\n"), b'\t');
}

#[test]
fn sniff_ignores_delimiters_inside_quotes() {
    let text = b"\"email;x;y\",name\na@b.nl,A\n";
    assert_eq!(sniff_delimiter(text), b',');
}

#[test]
fn sniff_breaks_ties_by_consistency() {
    // One of each in the header; the rows agree with `;` only.
    let text = b"e,f;g\n1,2;3,4\n5,6;7,8\n";
    assert_eq!(sniff_delimiter(text), b';');
    // Both agree: the preference order decides.
    assert_eq!(sniff_delimiter(b"e,f;g\n1,2;3\n"), b',');
}

#[test]
fn one_column_defaults_to_comma() {
    assert_eq!(sniff_delimiter(b"email\na@b.nl\n"), b',');
    assert_eq!(sniff_delimiter(b""), b',');
}

#[test]
fn line_ends_normalises_crlf_and_lone_cr_across_reads() {
    // One byte at a time, so a `\r\n` is split across reads.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let Some((&first, rest)) = self.0.split_first() else {
                return Ok(0);
            };
            buf[0] = first;
            self.0 = rest;
            Ok(1)
        }
    }
    let mut out = Vec::new();
    let mut stream = LineEnds::new(Trickle(b"a\r\nb\rc\n\"d\"  \r\n"));
    stream.read_to_end(&mut out).unwrap();
    assert_eq!(out, b"a\nb\nc\n\"d\"  \n");
}

#[test]
fn line_ends_passes_clean_chunks_through_and_notes_a_nul() {
    // Chunks of several bytes: clean ones take the fast path, one that
    // follows a chunk ending in `\r` does not.
    struct Chunks<'a>(Vec<&'a [u8]>);
    impl Read for Chunks<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Ok(0);
            }
            let chunk = self.0[0];
            let n = chunk.len().min(buf.len());
            buf[..n].copy_from_slice(&chunk[..n]);
            if n == chunk.len() {
                self.0.remove(0);
            } else {
                self.0[0] = &chunk[n..];
            }
            Ok(n)
        }
    }
    let mut stream = LineEnds::new(Chunks(vec![b"a,b\n\"c\"  \n", b"d\r", b"\ne,f\n  "]));
    let mut out = Vec::new();
    stream.read_to_end(&mut out).unwrap();
    assert_eq!(out, b"a,b\n\"c\"  \nd\ne,f\n  ");
    assert!(!stream.saw_nul);

    let mut stream = LineEnds::new(Chunks(vec![b"a\n\"b\"\n", b"c\0d\n"]));
    let mut out = Vec::new();
    stream.read_to_end(&mut out).unwrap();
    assert!(stream.saw_nul);
}

/// Every record of `bytes` as a file: its line, fields and whether it
/// was decoded, read one by one with [`Records::next`] and also through
/// [`ReadAhead`]'s batches; both must agree.
fn read_all(bytes: &[u8]) -> Vec<(u64, Vec<String>, bool)> {
    read_all_with_buffer(bytes, READ_BUFFER).unwrap()
}

/// [`read_all`] with a read buffer of `buffer` bytes; the error that
/// stopped the reading, if one did.
fn read_all_with_buffer(
    bytes: &[u8],
    buffer: usize,
) -> Result<Vec<(u64, Vec<String>, bool)>, InputError> {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut file, bytes).unwrap();
    let open = || Records::open_with_buffer(file.path(), "test list", buffer);
    let mut records = open()?;
    let mut one_by_one = Vec::new();
    while records.next()? {
        let fields = (0..records.len()).map(|i| records.get(i).to_owned());
        let decoded = records.current.records[0].decoded;
        one_by_one.push((records.line(), fields.collect(), decoded));
    }
    let mut records = open()?;
    if !records.next()? {
        return Ok(one_by_one);
    }
    let mut ahead = records.read_ahead(AheadColumns {
        email: Some(0),
        list_source: None,
    });
    let mut batched = vec![one_by_one[0].clone()];
    while ahead.next().unwrap() {
        let record = ahead.record().unwrap();
        let fields = record.iter().map(str::to_owned).collect::<Vec<_>>();
        let address = fields.first().map_or("", |f| f.as_str());
        assert_eq!(
            ahead.address_hash(),
            Some(crate::recipients::address_hash(address.trim()))
        );
        assert_eq!(
            ahead.address_ok(),
            Some(is_deliverable(address.trim())),
            "{address:?}"
        );
        batched.push((ahead.line(), fields, ahead.is_decoded()));
    }
    assert!(one_by_one == batched, "one by one and in batches differ");
    Ok(one_by_one)
}

/// What csv's own reader makes of `bytes` as [`Records`] reads them:
/// line endings normalised, the delimiter given, records of any length,
/// blank ones (only whitespace) left out, and a record whose fields are
/// not all UTF-8 decoded as Windows-1252.
fn read_as_csv_does(bytes: &[u8], delimiter: u8) -> Vec<(u64, Vec<String>, bool)> {
    let mut normalised = Vec::new();
    LineEnds::new(bytes).read_to_end(&mut normalised).unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(normalised.as_slice());
    let mut records = Vec::new();
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record).unwrap() {
        if record.iter().flatten().all(u8::is_ascii_whitespace) {
            continue;
        }
        // csv notes where it started reading the record, before the
        // blank lines it skipped; the record starts after them.
        let position = record.position().unwrap();
        let blank_lines = normalised[position.byte() as usize..]
            .iter()
            .take_while(|&&b| b == b'\n')
            .count();
        let line = position.line() + blank_lines as u64;
        let utf8: Option<Vec<String>> = record
            .iter()
            .map(|f| std::str::from_utf8(f).ok().map(str::to_owned))
            .collect();
        let decoded = utf8.is_none();
        let fields = utf8.unwrap_or_else(|| {
            record
                .iter()
                .map(|f| {
                    let mut text = String::new();
                    decode_windows_1252(f, &mut text);
                    text
                })
                .collect()
        });
        records.push((line, fields, decoded));
    }
    records
}

/// Where a quoted field opened that `normalised` (line endings made
/// `\n`) ends inside, if it does: the line it opened on. Written from
/// RFC 4180 with csv's leniencies (a quote inside an unquoted field is
/// text; text may follow a closing quote), apart from the reader.
fn open_quote_at_end(normalised: &[u8], delimiter: u8) -> Option<u64> {
    #[derive(PartialEq)]
    enum State {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let (mut state, mut line, mut opened) = (State::FieldStart, 1, 0);
    for &b in normalised {
        let ends_field = b == delimiter || b == b'\n';
        state = match state {
            State::FieldStart if b == b'"' => {
                opened = line;
                State::Quoted
            }
            State::FieldStart | State::Unquoted | State::QuoteInQuoted if ends_field => {
                State::FieldStart
            }
            State::Quoted if b == b'"' => State::QuoteInQuoted,
            State::Quoted => State::Quoted,
            State::QuoteInQuoted if b == b'"' => State::Quoted,
            _ => State::Unquoted,
        };
        line += u64::from(b == b'\n');
    }
    (state == State::Quoted).then_some(opened)
}

/// Reads one random list as the reader and as csv do, and checks that
/// they agree, or that the reader's error is the right one. Returns
/// whether the list was read (not refused).
fn check_against_csv(bytes: &[u8], buffer: usize) -> bool {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut file, bytes).unwrap();
    let Ok(records) = Records::open(file.path(), "test list") else {
        // Refused as binary from its first bytes.
        return false;
    };
    let delimiter = records.delimiter;
    let mut normalised = Vec::new();
    let body = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    LineEnds::new(body).read_to_end(&mut normalised).unwrap();
    let show = || format!("{:?} (buffer {buffer})", String::from_utf8_lossy(bytes));
    match read_all_with_buffer(bytes, buffer) {
        Ok(ours) => {
            assert_eq!(
                open_quote_at_end(&normalised, delimiter),
                None,
                "{}",
                show()
            );
            assert!(!normalised.contains(&0), "a NUL read: {}", show());
            let theirs = read_as_csv_does(body, delimiter);
            assert_eq!(ours, theirs, "{}", show());
            true
        }
        Err(err) if err.message.contains("never closed") => {
            let opened = open_quote_at_end(&normalised, delimiter);
            assert_eq!(err.line, opened, "{}", show());
            false
        }
        Err(err) if err.message.contains("NUL") => {
            assert!(normalised.contains(&0), "{}", show());
            false
        }
        Err(err) => panic!("{err}: {}", show()),
    }
}

#[test]
fn a_bom_at_the_start_of_a_later_line_is_text() {
    // The parser drops a BOM from the first input it is given; given
    // this line first (the lines before it have no quote), it dropped
    // this one, and the quote after it then opened a quoted field: the
    // address read as a deliverable one.
    let records =
        read_all("email,first_name\na@example.nl,A\n\u{feff}\"jan@example.nl\",Jan\n".as_bytes());
    assert_eq!(records[2].1, ["\u{feff}\"jan@example.nl\"", "Jan"]);
}

#[test]
fn reads_every_record_as_csv_does() {
    // Random lists from the bytes that matter to the reading (quotes,
    // the three delimiters, line endings, blanks, a BOM in the middle,
    // text that is UTF-8, text that is not and characters cut in two),
    // after headers that make each delimiter the sniffed one, read
    // through buffers from one byte up, so that lines, fields and
    // characters cross reads: the quick way through lines without a
    // quote and the parser for the others must give what csv gives,
    // record by record and line by line; and a list refused must be
    // one that ends in an open quote (refused at the line it opened on)
    // or holds a NUL.
    const HEADERS: &[&[u8]] = &[
        b"email,name\n",
        b"email;name\n",
        b"email\tname\n",
        b"email\n",
        b"\xef\xbb\xbfemail;name\r\n",
        b"\"email\";\"name\"\n",
        b"email,name",
    ];
    const PIECES: &[&[u8]] = &[
        b"a",
        b"jan@x.nl",
        b"Zo\xc3\xab",
        b"\xe9",
        b"\xc3",
        b"\xab",
        b",",
        b",",
        b";",
        b";",
        b"\t",
        b"\"",
        b"\"\"",
        b"\n",
        b"\n",
        b"\r\n",
        b"\r",
        b" ",
        b"\n\n",
        b"\xef\xbb\xbf",
        b"\x0c",
    ];
    let mut rng = fastrand::Rng::with_seed(0x6373_765f_7265_6164);
    let mut compared = 0;
    for _ in 0..6_000 {
        let mut bytes = HEADERS[rng.usize(..HEADERS.len())].to_vec();
        for _ in 0..rng.usize(1..60) {
            bytes.extend_from_slice(PIECES[rng.usize(..PIECES.len())]);
        }
        let buffer = [1, 2, 3, 5, 8, 13, 17, 64, READ_BUFFER][rng.usize(..9)];
        compared += usize::from(check_against_csv(&bytes, buffer));
    }
    assert!(compared > 2_000, "{compared}");
}

#[test]
fn reads_lists_past_the_sniffed_prefix_as_csv_does() {
    // The same past the first 16 KiB (read apart, to sniff the
    // delimiter), with NUL bytes among the pieces.
    const PIECES: &[&[u8]] = &[
        b"a",
        b"jan@x.nl",
        b"\xe9",
        b",",
        b";",
        b"\t",
        b"\"",
        b"\"\"",
        b"\n",
        b"\r\n",
        b"\r",
        b" ",
        b"\0",
        b"\xc3\xab",
    ];
    let mut rng = fastrand::Rng::with_seed(7);
    let mut compared = 0;
    for _ in 0..200 {
        let delimiter = [b',', b';', b'\t'][rng.usize(..3)];
        let mut bytes = format!("email{}name\n", char::from(delimiter)).into_bytes();
        let length = rng.usize(PREFIX_LEN as usize - 200..PREFIX_LEN as usize + 200);
        for i in 0.. {
            if bytes.len() >= length {
                break;
            }
            bytes.extend_from_slice(format!("p{i}@x.nl{}Naam\n", char::from(delimiter)).as_bytes());
        }
        for _ in 0..rng.usize(1..40) {
            bytes.extend_from_slice(PIECES[rng.usize(..PIECES.len())]);
        }
        let buffer = [1, 7, 64, 100, READ_BUFFER][rng.usize(..5)];
        compared += usize::from(check_against_csv(&bytes, buffer));
    }
    assert!(compared > 50, "{compared}");
}

#[test]
fn for_each_position_finds_every_one_and_nothing_else() {
    // Every byte value beside and as the one sought, at every position
    // of strings up to 20 bytes.
    for byte in [b',', b';', b'\t', 0, 0x80, 0xff] {
        for len in (0..20).chain(60..70).chain([127, 128, 129]) {
            for at in 0..len {
                for other in 0..=255u8 {
                    let mut bytes: Vec<u8> = (0..len).map(|i| [other, byte][i % 2]).collect();
                    bytes[at] = other;
                    let mut found = Vec::new();
                    for_each_position(&bytes, byte, |i| found.push(i));
                    let expected: Vec<usize> = (0..len).filter(|&i| bytes[i] == byte).collect();
                    assert_eq!(found, expected, "{bytes:?} {byte}");
                }
            }
        }
    }
}

fn strings(fields: &[&str]) -> Vec<String> {
    fields.iter().map(|&f| f.to_owned()).collect()
}

#[test]
fn a_record_longer_than_the_read_buffer_with_quoted_lines_across_reads() {
    // One quoted field of several read buffers, with line breaks, a
    // doubled quote and non-ASCII text throughout, then a last line
    // without a line break.
    let long: String = (0..40_000).map(|i| format!("Zoë \"{i}\"\n")).collect();
    let quoted = long.replace('"', "\"\"");
    let text = format!("email,note\r\na@x.nl,\"{quoted}\"\r\n\r\nb@x.nl,kort");
    assert!(text.len() > 4 * READ_BUFFER);
    let records = read_all(text.as_bytes());
    assert_eq!(records.len(), 3);
    assert_eq!(records[1], (2, strings(&["a@x.nl", &long]), false));
    // The field's 40,000 line breaks, its line's end and a blank line.
    assert_eq!(records[2], (40_004, strings(&["b@x.nl", "kort"]), false));
}

#[test]
fn a_character_cut_by_a_read_is_text_not_windows_1252() {
    // The first read is the 16 KiB prefix: put `é` across its end, in
    // the second field, with a Windows-1252 row further on in the same
    // batch and UTF-8 rows after it.
    let mut text = b"email,name\n".to_vec();
    let mut row = 0;
    while text.len() < PREFIX_LEN as usize - 40 {
        text.extend_from_slice(format!("r{row}@x.nl,Naam{row}\n").as_bytes());
        row += 1;
    }
    let pad = PREFIX_LEN as usize - 1 - text.len() - "cut@x.nl,".len();
    let name = format!("{}é", "n".repeat(pad));
    text.extend_from_slice(format!("cut@x.nl,{name}\n").as_bytes());
    assert_eq!(&text[PREFIX_LEN as usize - 1..][..2], "é".as_bytes());
    text.extend_from_slice(b"jose@x.nl,Jos\xe9\nzoe@x.nl,Zo\xc3\xab\n");
    let records = read_all(&text);
    let n = records.len();
    assert_eq!(
        records[n - 3],
        (row + 2, strings(&["cut@x.nl", &name]), false)
    );
    assert_eq!(
        records[n - 2],
        (row + 3, strings(&["jose@x.nl", "José"]), true)
    );
    assert_eq!(
        records[n - 1],
        (row + 4, strings(&["zoe@x.nl", "Zoë"]), false)
    );
    assert!(records[..n - 2].iter().all(|(_, _, decoded)| !decoded));
}

#[test]
fn a_field_end_that_splits_a_character_makes_the_record_windows_1252() {
    // `\xC3\xA9` is `é` in UTF-8, but the delimiter between them makes
    // the fields `\xC3` and `\xA9`: not UTF-8 each. The same across a
    // line break: each record on its own is not UTF-8, so all of it is
    // read as Windows-1252, even its UTF-8 `ë`. Put together, the
    // records' text would be valid UTF-8.
    let text = b"email,name\na@x.nl,x\xc3,\xa9y\nb@x.nl,\xc3\n\xa9@x.nl,Zo\xc3\xab";
    let records = read_all(text);
    assert_eq!(records[1], (2, strings(&["a@x.nl", "xÃ", "©y"]), true));
    assert_eq!(records[2], (3, strings(&["b@x.nl", "Ã"]), true));
    assert_eq!(records[3], (4, strings(&["©@x.nl", "ZoÃ«"]), true));
}

/// Whether the line break added at the end of `input` goes into a
/// quoted field (by [`line_break_in_quotes`]), for a parser with
/// `delimiter` that has parsed all of `input`, record after record.
fn in_quotes_after(input: &[u8], delimiter: u8) -> bool {
    let mut core = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
    let mut rest = input;
    while !rest.is_empty() {
        let (_, read, ..) = core.read_record(rest, &mut [0; 64], &mut [0; 64]);
        rest = &rest[read..];
    }
    let (result, read, written, _) = core.read_record(b"\n", &mut [0; 64], &mut [0; 64]);
    assert_eq!(read, 1);
    line_break_in_quotes(&result, written)
}

#[test]
fn the_line_break_at_the_end_tells_in_quotes_in_every_state() {
    let outside: &[&[u8]] = &[
        b"",
        b"a,b\n",
        b"a,b\n\n\n",
        b"a,",
        b"a,b",
        b"a,b\"c",
        b"a,\"b\"",
        b"a,\"\"",
        b"a,\"b\"c",
        b"a,\"b\"c\"",
        b"a,\"he said \"\"hi\"\"\"",
        b"a,\"two\nlines\"",
        b"a,\"b\n\"\"\"",
        b"a,\"b\"\n",
    ];
    for input in outside {
        let text = String::from_utf8_lossy(input);
        assert!(!in_quotes_after(input, b','), "{text:?}");
    }
    let inside: &[&[u8]] = &[
        b"\"",
        b"a,\"",
        b"a,\"\n",
        b"a,\"b",
        b"a,\"b\"\"",
        b"a,\"\"\"",
        b"a,\"b\nc,d\n",
        b"a,\"b\"\"\n",
        b"a,b\n\"",
    ];
    for input in inside {
        let text = String::from_utf8_lossy(input);
        assert!(in_quotes_after(input, b','), "{text:?}");
    }
    assert!(in_quotes_after(b"a;\"b,c", b';'));
    assert!(!in_quotes_after(b"a;\"b;c\"", b';'));
    assert!(in_quotes_after(b"a\t\"\n", b'\t'));
    assert!(!in_quotes_after(b"a\t\"\"\t", b'\t'));
}

/// The line of the unclosed-quote error reading `bytes` as a file.
fn error_line(bytes: &[u8]) -> Option<u64> {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut file, bytes).unwrap();
    let mut records = Records::open(file.path(), "test list").unwrap();
    loop {
        match records.next() {
            Ok(true) => {}
            Ok(false) => panic!("read {:?} to the end", String::from_utf8_lossy(bytes)),
            Err(err) => {
                assert!(err.message.contains("never closed"), "{}", err.message);
                return err.line;
            }
        }
    }
}

#[test]
fn a_quote_left_open_at_the_end_of_the_file_is_refused() {
    assert_eq!(error_line(b"email\nx@x.nl,\"\n"), Some(2));
    assert_eq!(error_line(b"email\nx@x.nl,\""), Some(2));
    assert_eq!(error_line(b"email\r\nx@x.nl,\"\r\n"), Some(2));
    assert_eq!(error_line(b"email\nx@x.nl,\"\n\n\n"), Some(2));
    assert_eq!(error_line(b"email\n\"\n"), Some(2));
    assert_eq!(error_line(b"email\nx@x.nl,\"a\nb\n\"\"\n"), Some(2));
    assert_eq!(
        error_line(b"email\nx@x.nl,\"1\n2\",\"open\nmore\n"),
        Some(3)
    );
    assert_eq!(error_line(b"email\n\nx@x.nl,\"a\"\"\n"), Some(3));
}

#[test]
fn a_quote_closed_at_the_end_of_the_file_reads() {
    let records = read_all(b"email,note\na@x.nl,\"b\"\n");
    assert_eq!(records[1], (2, strings(&["a@x.nl", "b"]), false));
    let records = read_all(b"email,note\na@x.nl,\"b\"");
    assert_eq!(records[1], (2, strings(&["a@x.nl", "b"]), false));
    let records = read_all(b"email,note\na@x.nl,\"he said \"\"hi\"\"\"");
    assert_eq!(
        records[1],
        (2, strings(&["a@x.nl", "he said \"hi\""]), false)
    );
    let records = read_all(b"email,note\na@x.nl,\"a\n\"\"\"\n");
    assert_eq!(records[1], (2, strings(&["a@x.nl", "a\n\""]), false));
    let records = read_all(b"email,note\na@x.nl,\"two\r\nlines\"\r\nb@x.nl,\"\"");
    assert_eq!(records[1], (2, strings(&["a@x.nl", "two\nlines"]), false));
    assert_eq!(records[2], (4, strings(&["b@x.nl", ""]), false));
}

#[test]
fn decodes_windows_1252() {
    let mut out = String::from("x");
    decode_windows_1252(b"Jos\xe9 \x80 \x93ok\x94", &mut out);
    assert_eq!(out, "xJosé € “ok”");
}
