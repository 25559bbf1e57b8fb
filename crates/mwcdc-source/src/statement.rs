//! Just enough reading of QUERY event statements to know what they do: transaction control,
//! XA steps, TRUNCATE and other DDL, and DML logged as a statement, with the tables they name.

/// A table named in a statement; `db` is `None` when it relies on the session's database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName {
    /// The database, if qualified.
    pub db: Option<String>,
    /// The table.
    pub table: String,
}

/// What a QUERY event's statement is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Statement {
    /// `BEGIN` / `START TRANSACTION`.
    Begin,
    /// `COMMIT` (ends a group on a non-transactional engine).
    Commit,
    /// `ROLLBACK` (ends a group whose non-transactional changes stay).
    Rollback,
    /// `XA START`, `XA END`, `XA PREPARE`: markers inside an XA group.
    XaMarker,
    /// `XA COMMIT <xid>`; the text is the XID as the server prints it.
    XaCommit(String),
    /// `XA ROLLBACK <xid>`.
    XaRollback(String),
    /// `TRUNCATE [TABLE] t`.
    Truncate(TableName),
    /// Other DDL (`ALTER`, `CREATE`, `DROP`, `RENAME`, ...) with the tables it names.
    Ddl(Vec<TableName>),
    /// DML logged as a statement, with the tables it writes.
    Dml(Vec<TableName>),
    /// Anything else (`SAVEPOINT`, `SET`, `FLUSH`, ...).
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Quoted(String),
    Punct(char),
    Literal,
}

fn tokenize(sql: &str) -> Vec<Token> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            i += 1;
        } else if c == '#' || (c == '-' && next == Some('-')) {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if c == '`' {
            let mut s = String::new();
            i += 1;
            while i < chars.len() {
                if chars[i] == '`' {
                    if chars.get(i + 1) == Some(&'`') {
                        s.push('`');
                        i += 2;
                        continue;
                    }
                    break;
                }
                s.push(chars[i]);
                i += 1;
            }
            i += 1;
            out.push(Token::Quoted(s));
        } else if c == '\'' || c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != c {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push(Token::Literal);
        } else if c.is_alphanumeric() || c == '_' || c == '$' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                i += 1;
            }
            out.push(Token::Word(chars[start..i].iter().collect()));
        } else {
            out.push(Token::Punct(c));
            i += 1;
        }
    }
    out
}

fn is_kw(t: Option<&Token>, kw: &str) -> bool {
    matches!(t, Some(Token::Word(w)) if w.eq_ignore_ascii_case(kw))
}

/// Reads a possibly qualified table name at `i`, returning it and the index after it.
fn table_at(tokens: &[Token], i: usize) -> Option<(TableName, usize)> {
    let ident = |t: Option<&Token>| match t {
        Some(Token::Word(w)) | Some(Token::Quoted(w)) => Some(w.clone()),
        _ => None,
    };
    let first = ident(tokens.get(i))?;
    if tokens.get(i + 1) == Some(&Token::Punct('.')) {
        if let Some(second) = ident(tokens.get(i + 2)) {
            return Some((
                TableName {
                    db: Some(first),
                    table: second,
                },
                i + 3,
            ));
        }
    }
    Some((
        TableName {
            db: None,
            table: first,
        },
        i + 1,
    ))
}

/// Skips optional modifier keywords.
fn skip_words(tokens: &[Token], mut i: usize, words: &[&str]) -> usize {
    while words.iter().any(|w| is_kw(tokens.get(i), w)) {
        i += 1;
    }
    i
}

/// Collects the comma-separated table list starting at `i` (`a, b AS x, c`), stopping at
/// the first token that cannot continue it.
fn table_list(tokens: &[Token], mut i: usize, out: &mut Vec<TableName>) {
    while let Some((name, next)) = table_at(tokens, i) {
        out.push(name);
        i = next;
        if is_kw(tokens.get(i), "AS") {
            i += 1;
        }
        if matches!(tokens.get(i), Some(Token::Word(w)) if !is_clause_word(w)) {
            i += 1; // alias
        }
        if tokens.get(i) == Some(&Token::Punct(',')) {
            i += 1;
        } else {
            break;
        }
    }
}

fn is_clause_word(w: &str) -> bool {
    [
        "SET",
        "WHERE",
        "USING",
        "JOIN",
        "INNER",
        "LEFT",
        "RIGHT",
        "CROSS",
        "STRAIGHT_JOIN",
        "NATURAL",
        "ON",
        "ORDER",
        "LIMIT",
        "VALUES",
        "VALUE",
        "SELECT",
        "PARTITION",
        "RETURNING",
        "TO",
        "FROM",
    ]
    .iter()
    .any(|k| w.eq_ignore_ascii_case(k))
}

/// The tables of a table-reference clause starting at `i` (`a, b AS x JOIN c ON ...`), up
/// to the first of `stop` words at nesting level zero.
fn table_refs(tokens: &[Token], i: usize, stop: &[&str]) -> Vec<TableName> {
    let mut out = Vec::new();
    table_list(tokens, i, &mut out);
    let mut depth = 0i32;
    for (j, t) in tokens.iter().enumerate().skip(i) {
        match t {
            Token::Punct('(') => depth += 1,
            Token::Punct(')') => depth -= 1,
            Token::Word(w) if depth == 0 && stop.iter().any(|k| w.eq_ignore_ascii_case(k)) => break,
            Token::Word(w)
                if depth == 0
                    && (w.eq_ignore_ascii_case("JOIN")
                        || w.eq_ignore_ascii_case("STRAIGHT_JOIN")) =>
            {
                table_list(tokens, j + 1, &mut out)
            }
            _ => {}
        }
    }
    out
}

/// The tables a DML statement writes (not those it only reads).
fn dml_targets(tokens: &[Token]) -> Vec<TableName> {
    let kw = |i: usize, k: &str| is_kw(tokens.get(i), k);
    const MODIFIERS: [&str; 5] = [
        "LOW_PRIORITY",
        "IGNORE",
        "QUICK",
        "DELAYED",
        "HIGH_PRIORITY",
    ];
    if kw(0, "INSERT") || kw(0, "REPLACE") || kw(0, "LOAD") {
        let into = tokens.iter().position(|t| is_kw(Some(t), "INTO"));
        return into
            .and_then(|i| table_at(tokens, skip_words(tokens, i + 1, &["TABLE"])))
            .map(|(t, _)| vec![t])
            .unwrap_or_default();
    }
    if kw(0, "UPDATE") {
        return table_refs(tokens, skip_words(tokens, 1, &MODIFIERS), &["SET"]);
    }
    // DELETE [modifiers] FROM t ... | DELETE [modifiers] t1, t2 FROM refs ...
    let i = skip_words(tokens, 1, &MODIFIERS);
    if kw(i, "FROM") {
        table_refs(
            tokens,
            i + 1,
            &["WHERE", "USING", "ORDER", "LIMIT", "RETURNING"],
        )
    } else {
        // Multi-table DELETE names aliases first: report them and every table of the FROM
        // clause, which over-approximates the written tables but never misses one.
        let mut out = Vec::new();
        table_list(tokens, i, &mut out);
        if let Some(from) = tokens.iter().position(|t| is_kw(Some(t), "FROM")) {
            out.extend(table_refs(
                tokens,
                from + 1,
                &["WHERE", "USING", "ORDER", "LIMIT"],
            ));
        }
        out
    }
}

/// The XID text after `XA COMMIT` / `XA ROLLBACK`, without `ONE PHASE`.
fn xid_text(sql: &str, tokens_before: usize) -> String {
    let mut words = sql
        .split_whitespace()
        .skip(tokens_before)
        .collect::<Vec<_>>()
        .join(" ");
    for suffix in [" ONE PHASE", " one phase"] {
        if let Some(stripped) = words.strip_suffix(suffix) {
            words = stripped.to_string();
        }
    }
    words
}

/// Classifies a statement.
pub fn classify(sql: &str) -> Statement {
    let tokens = tokenize(sql);
    let kw = |i: usize, k: &str| is_kw(tokens.get(i), k);
    if kw(0, "BEGIN") || (kw(0, "START") && kw(1, "TRANSACTION")) {
        return Statement::Begin;
    }
    if kw(0, "COMMIT") {
        return Statement::Commit;
    }
    if kw(0, "ROLLBACK") && !kw(1, "TO") {
        return Statement::Rollback;
    }
    if kw(0, "XA") {
        return if kw(1, "COMMIT") {
            Statement::XaCommit(xid_text(sql.trim_start(), 2))
        } else if kw(1, "ROLLBACK") {
            Statement::XaRollback(xid_text(sql.trim_start(), 2))
        } else {
            Statement::XaMarker
        };
    }
    if kw(0, "TRUNCATE") {
        let i = if kw(1, "TABLE") { 2 } else { 1 };
        return table_at(&tokens, i).map_or(Statement::Other, |(t, _)| Statement::Truncate(t));
    }
    if kw(0, "INSERT") || kw(0, "REPLACE") || kw(0, "UPDATE") || kw(0, "DELETE") || kw(0, "LOAD") {
        return Statement::Dml(dml_targets(&tokens));
    }
    if kw(0, "ALTER") || kw(0, "CREATE") || kw(0, "DROP") || kw(0, "RENAME") {
        let mut tables = Vec::new();
        if let Some(pos) = tokens
            .iter()
            .position(|t| is_kw(Some(t), "TABLE") || is_kw(Some(t), "TABLES"))
        {
            let i = skip_words(&tokens, pos + 1, &["IF", "NOT", "EXISTS"]);
            let mut j = i;
            while let Some((name, next)) = table_at(&tokens, j) {
                tables.push(name);
                j = next;
                if kw(j, "TO") || tokens.get(j) == Some(&Token::Punct(',')) {
                    j += 1;
                } else {
                    break;
                }
            }
        } else if tokens.iter().any(|t| is_kw(Some(t), "INDEX")) {
            // CREATE [UNIQUE] INDEX i ON t (...), DROP INDEX i ON t: the key may change.
            if let Some(on) = tokens.iter().position(|t| is_kw(Some(t), "ON")) {
                tables.extend(table_at(&tokens, on + 1).map(|(t, _)| t));
            }
        }
        return Statement::Ddl(tables);
    }
    Statement::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(db: Option<&str>, table: &str) -> TableName {
        TableName {
            db: db.map(str::to_string),
            table: table.to_string(),
        }
    }

    #[test]
    fn transaction_control_and_xa() {
        assert_eq!(classify("BEGIN"), Statement::Begin);
        assert_eq!(classify("COMMIT"), Statement::Commit);
        assert_eq!(classify("ROLLBACK"), Statement::Rollback);
        assert_eq!(classify("ROLLBACK TO SAVEPOINT a"), Statement::Other);
        assert_eq!(classify("XA END X'7831',X'',1"), Statement::XaMarker);
        assert_eq!(
            classify("XA COMMIT X'7831',X'',1"),
            Statement::XaCommit("X'7831',X'',1".into())
        );
        assert_eq!(
            classify("XA ROLLBACK X'7833',X'',1"),
            Statement::XaRollback("X'7833',X'',1".into())
        );
    }

    #[test]
    fn truncate_and_ddl() {
        assert_eq!(
            classify("TRUNCATE TABLE `w`.`revision`"),
            Statement::Truncate(t(Some("w"), "revision"))
        );
        assert_eq!(
            classify("truncate logging"),
            Statement::Truncate(t(None, "logging"))
        );
        assert_eq!(
            classify("ALTER TABLE revision ADD COLUMN x INT"),
            Statement::Ddl(vec![t(None, "revision")])
        );
        assert_eq!(
            classify("DROP TABLE IF EXISTS a.b, c"),
            Statement::Ddl(vec![t(Some("a"), "b"), t(None, "c")])
        );
        assert_eq!(
            classify("RENAME TABLE a TO b, c.d TO e"),
            Statement::Ddl(vec![
                t(None, "a"),
                t(None, "b"),
                t(Some("c"), "d"),
                t(None, "e")
            ])
        );
        assert_eq!(
            classify("/* comment */ CREATE TABLE IF NOT EXISTS w.page (id int)"),
            Statement::Ddl(vec![t(Some("w"), "page")])
        );
    }

    #[test]
    fn index_ddl_names_its_table() {
        assert_eq!(
            classify("CREATE UNIQUE INDEX u ON w.uk (b)"),
            Statement::Ddl(vec![t(Some("w"), "uk")])
        );
        assert_eq!(
            classify("DROP INDEX u ON uk"),
            Statement::Ddl(vec![t(None, "uk")])
        );
    }

    #[test]
    fn dml_names_its_tables_not_its_columns() {
        assert_eq!(
            classify("INSERT INTO revision (rev_id) VALUES (1)"),
            Statement::Dml(vec![t(None, "revision")])
        );
        assert_eq!(
            classify("insert ignore into `enwiki`.`logging` values ('from revision')"),
            Statement::Dml(vec![t(Some("enwiki"), "logging")])
        );
        assert_eq!(
            classify(
                "UPDATE archive a JOIN x.revision r ON a.ar_rev_id = r.rev_id SET a.ar_deleted = 1"
            ),
            Statement::Dml(vec![t(None, "archive"), t(Some("x"), "revision")])
        );
        assert_eq!(
            classify("DELETE FROM page WHERE revision = 1"),
            Statement::Dml(vec![t(None, "page")])
        );
        assert_eq!(
            classify("INSERT INTO t2 SELECT * FROM revision"),
            Statement::Dml(vec![t(None, "t2")])
        );
        assert_eq!(
            classify("DELETE a, r FROM archive a JOIN revision r WHERE 1"),
            Statement::Dml(vec![
                t(None, "a"),
                t(None, "r"),
                t(None, "archive"),
                t(None, "revision")
            ])
        );
        assert_eq!(
            classify("LOAD DATA INFILE 'x' INTO TABLE w.logging"),
            Statement::Dml(vec![t(Some("w"), "logging")])
        );
        assert_eq!(classify("SAVEPOINT a"), Statement::Other);
    }
}
