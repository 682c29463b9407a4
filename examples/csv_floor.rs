//! The floor of the lint benchmark (issue 5): the csv crate reading every
//! record of a file into one reused `ByteRecord`, and nothing else.
//!
//! ```text
//! cargo run --release --example csv_floor -- FILE.csv
//! ```
//!
//! Prints the number of data rows. mailgate's lint of the same file is
//! measured against this time.

use std::fs::File;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: csv_floor FILE.csv");
        std::process::exit(2);
    };
    let file = match File::open(&path) {
        Ok(file) => file,
        Err(e) => {
            eprintln!("csv_floor: {path}: {e}");
            std::process::exit(1);
        }
    };
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(file);
    let mut record = csv::ByteRecord::new();
    let mut rows = 0u64;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => rows += 1,
            Ok(false) => break,
            Err(e) => {
                eprintln!("csv_floor: {path}: {e}");
                std::process::exit(1);
            }
        }
    }
    println!("{rows}");
}
