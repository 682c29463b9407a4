//! The template variable names of the columns: a mapped column is its
//! field's name (and its header in snake_case, when free), any other its
//! header in snake_case, made unique.

use std::collections::{HashMap, HashSet};

use super::Column;
use crate::recipients::Field;

/// Gives every column its template variable: the field's name, or the
/// header in snake_case, made unique with `_2`, `_3` … when two headers
/// come out the same. A column that maps to a field also gets its header
/// in snake_case, when that name is free (a field's name and an unmapped
/// column's name come first).
///
/// Linear in the number of columns: the names taken are a hash set, and each
/// base name remembers the suffix it got to (4,000 columns of one name took
/// 40 s when every suffix was tried again against a list of every name).
pub(super) fn name_columns(headers: &[String], fields: &[Option<Field>]) -> Vec<Column> {
    let mut taken: HashSet<String> = fields
        .iter()
        .flatten()
        .map(|f| f.name().to_owned())
        .collect();
    let mut next_suffix: HashMap<String, usize> = HashMap::new();
    let mut columns = Vec::with_capacity(headers.len());
    for (index, header) in headers.iter().enumerate() {
        let var = match fields[index] {
            Some(field) => field.name().to_owned(),
            None => {
                let base = snake_case(header, index);
                let mut var = base.clone();
                if taken.contains(&var) {
                    let n = next_suffix.entry(base.clone()).or_insert(2);
                    loop {
                        var = format!("{base}_{n}");
                        *n += 1;
                        if !taken.contains(&var) {
                            break;
                        }
                    }
                }
                taken.insert(var.clone());
                var
            }
        };
        columns.push(Column {
            index,
            header: header.clone(),
            var,
            header_var: None,
            field: fields[index],
            place: None,
        });
    }
    for column in columns.iter_mut().filter(|c| c.field.is_some()) {
        let name = snake_case(&column.header, column.index);
        if !taken.contains(&name) {
            taken.insert(name.clone());
            column.header_var = Some(name);
        }
    }
    columns
}

/// A header as a template variable: lower-case ASCII letters and digits,
/// everything else `_` (runs collapsed, none at the ends); common accented
/// letters lose their accent (`Geïnteresseerd` → `geinteresseerd`), since
/// template identifiers are ASCII. One starting with a digit gets `col_`
/// in front; an empty one is `column_<n>` (1-based).
pub(super) fn snake_case(header: &str, index: usize) -> String {
    let mut out = String::with_capacity(header.len());
    let mut push = |c: char| {
        if c == '_' {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
        } else {
            out.push(c);
        }
    };
    let mut folded = String::with_capacity(4);
    for c in header.chars() {
        folded.clear();
        crate::normalise::push_folded(c, &mut folded);
        for c in folded.chars() {
            push(if c.is_ascii_alphanumeric() { c } else { '_' });
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    if out.is_empty() {
        format!("column_{}", index + 1)
    } else if out.starts_with(|c: char| c.is_ascii_digit()) {
        format!("col_{out}")
    } else {
        out
    }
}
