//! Free-text Chinese addresses (生源地地址) to a current division: a character trie over every
//! division name and its usual short forms, scanned left to right.
//!
//! What lives here: the name variants (full names, names without suffix, ethnic-autonomous names
//! cut before the first ethnic group, abbreviations such as 内蒙古, names of abolished divisions
//! through the successor table) and the rules that decide between candidates. What does not:
//! routing order and receiving organisations (`routing`).
//!
//! How a scan decides, in short:
//! - at each position the longest name that may start there wins, except that a shorter name is
//!   taken when a full name follows it that reaches further ("济南市中区" is 济南 + 市中区, while
//!   "井陉矿区" stays whole);
//! - every recognised piece must lie below what the pieces before it established; a piece that
//!   does not is ignored as part of a street name ("广州市中山路" stays 广州市);
//! - a piece may stand for several divisions (朝阳区, 吉林): all are kept as hypotheses and later
//!   pieces choose; nested hypotheses resolve to the shallower one; unrelated ones that nothing
//!   disambiguates resolve to their common ancestor, or to nothing, with a note;
//! - short county names (历下 for 历下区) count only right after a recognised piece, and no short
//!   name counts right before a road word (路, 街 …), so ordinary words are not read as places;
//! - scanning stops once the result is a county: what follows is street and house number.

use rustc_hash::FxHashMap;

use crate::domain::division::{DivisionCode, DivisionTable, Level};
use crate::domain::text::half_width_char;

/// Longer addresses are cut: the division names come first in any real address.
const MAX_CHARS: usize = 192;
/// Distinct names that can start at one position (a trie path has at most this many ends).
const MAX_MATCHES: usize = 16;
/// Simultaneous readings of the address so far (朝阳区 alone has two, 重庆市 three).
const MAX_HYPOTHESES: usize = 32;
/// Recognised pieces kept for the answer.
const MAX_PIECES: usize = 24;
/// A short form must keep at least this many characters: 和县 never becomes 和, 城区 never 城.
const MIN_SHORT_CHARS: usize = 2;
/// Divisions of these provinces are not matched: 99 holds the placeholders 苏鲁交界 / 海域 of
/// the source table, which are not GB/T 2260 divisions.
const SKIPPED_PROVINCES: [u32; 1] = [99];

/// Characters that, right after a short name, mark it as part of a street name (北京路, 朝阳门)
/// unless a division name starts there (唐山路南区, 哈尔滨道里区). Full names (北京市, 中山市)
/// are not affected.
const ROAD_WORDS: [char; 10] = ['路', '街', '道', '巷', '胡', '弄', '门', '桥', '里', '号'];

/// Two-character words that, right after a short name, also mark a street or a building
/// (中山大道, 人民广场).
const ROAD_PAIRS: [(char, char); 6] = [
    ('大', '道'),
    ('大', '街'),
    ('大', '厦'),
    ('广', '场'),
    ('小', '区'),
    ('花', '园'),
];

/// Punctuation dropped before matching, like whitespace, so 山东省，济南市 reads as one run.
const SEPARATORS: [char; 24] = [
    ',', '，', '、', ';', '；', ':', '：', '.', '。', '-', '—', '_', '/', '\\', '|', '·', '(', ')',
    '（', '）', '[', ']', '【', '】',
];

/// The 55 minority nationalities (without 族) plus 各 (龙胜各族自治县). An autonomous division's
/// short name is its name cut before the first of these.
#[rustfmt::skip]
const ETHNIC_GROUPS: [&str; 56] = [
    "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白", "土家",
    "哈尼", "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇",
    "柯尔克孜", "土", "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌",
    "普米", "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔",
    "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺", "各",
];

/// Common names that the suffix rules do not produce.
const EXTRA_ALIASES: [(&str, u32); 1] = [("内蒙", 150_000)];

/// The result of resolving one address.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AddressMatch {
    /// The current code of the deepest level resolved (county, prefecture or province).
    pub division: Option<DivisionCode>,
    /// True when a recognised piece was the name of an abolished division (莱芜市, 莱城区).
    pub via_successor: bool,
    /// The name pieces recognised, as written, with the current code each stands for.
    pub matched: Vec<(String, DivisionCode)>,
    /// Why the answer is less than it looks, in Chinese: ambiguity, abolished names, nothing found.
    pub note: Option<String>,
}

/// A division as the resolver sees it: its code, the two levels above it and its level.
#[derive(Clone, Copy, Debug)]
struct Node {
    code: u32,
    /// Parent and grandparent codes, 0 where there is none.
    up: [u32; 2],
    level: Level,
}

impl Node {
    fn is_strictly_under(&self, ancestor: u32) -> bool {
        ancestor != 0 && (self.up[0] == ancestor || self.up[1] == ancestor)
    }

    fn is_at_or_under(&self, ancestor: u32) -> bool {
        self.code == ancestor || self.is_strictly_under(ancestor)
    }
}

/// One division a name may stand for.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    node: Node,
    /// Reached through the successor table.
    via: bool,
    /// May start anywhere; otherwise only right after a recognised piece (short county names).
    anywhere: bool,
    /// A short form: not taken right before a road word.
    short: bool,
}

#[derive(Clone, Copy)]
struct Key {
    start: u32,
    len: u32,
}

/// One live reading of the address so far.
#[derive(Clone, Copy)]
struct Hypothesis {
    node: Node,
    via: bool,
}

#[derive(Clone, Copy)]
struct Piece {
    start: usize,
    end: usize,
    key: u32,
    adjacent: bool,
}

const NO_KEY: u32 = u32::MAX;

/// Built once from a division table; answers any number of addresses without allocating beyond
/// the result.
pub struct AddressResolver {
    /// Trie edges: (node, character) -> child node. Node 0 is the root.
    edges: FxHashMap<(u32, char), u32>,
    /// For each trie node, the key ending there or [`NO_KEY`].
    terminal: Vec<u32>,
    keys: Vec<Key>,
    candidates: Vec<Candidate>,
    /// Names and positions of every current division, for notes and answers.
    nodes: FxHashMap<u32, (Node, Box<str>)>,
}

impl AddressResolver {
    pub fn new(table: &DivisionTable) -> AddressResolver {
        let mut nodes: FxHashMap<u32, (Node, Box<str>)> = FxHashMap::default();
        for d in table.divisions() {
            let parent = d.parent.map(DivisionCode::value).unwrap_or(0);
            let grand = d
                .parent
                .and_then(|p| table.get(p))
                .and_then(|p| p.parent)
                .map(DivisionCode::value)
                .unwrap_or(0);
            let node = Node {
                code: d.code.value(),
                up: [parent, grand],
                level: d.level,
            };
            nodes.insert(d.code.value(), (node, d.name.clone().into_boxed_str()));
        }

        let mut by_key: FxHashMap<String, Vec<Candidate>> = FxHashMap::default();
        let mut add = |key: String, cand: Candidate| {
            if key.chars().count() < MIN_SHORT_CHARS {
                return;
            }
            let list = by_key.entry(key).or_default();
            match list.iter_mut().find(|c| c.node.code == cand.node.code) {
                // The same division under the same string by two routes (current and abolished
                // name, full and short): keep the most permissive reading.
                Some(existing) => {
                    existing.anywhere |= cand.anywhere;
                    existing.short &= cand.short;
                    existing.via &= cand.via;
                }
                None => list.push(cand),
            }
        };

        let skipped = |code: DivisionCode| SKIPPED_PROVINCES.contains(&code.province_digits());
        for d in table.divisions() {
            if skipped(d.code) {
                continue;
            }
            let Some(&(node, _)) = nodes.get(&d.code.value()) else {
                continue;
            };
            for (key, short) in name_variants(&d.name, d.level) {
                let anywhere = !short || d.level != Level::County;
                add(
                    key,
                    Candidate {
                        node,
                        via: false,
                        anywhere,
                        short,
                    },
                );
            }
        }
        for s in table.successors() {
            let Some(target) = table.current_successor(s.old_code) else {
                continue;
            };
            if skipped(target) {
                continue;
            }
            let Some(&(node, _)) = nodes.get(&target.value()) else {
                continue;
            };
            for (key, short) in name_variants(&s.old_name, s.old_level) {
                let anywhere = !short || s.old_level != Level::County;
                add(
                    key,
                    Candidate {
                        node,
                        via: true,
                        anywhere,
                        short,
                    },
                );
            }
        }
        for (alias, code) in EXTRA_ALIASES {
            if let Some(&(node, _)) = nodes.get(&code) {
                add(
                    alias.to_string(),
                    Candidate {
                        node,
                        via: false,
                        anywhere: true,
                        short: true,
                    },
                );
            }
        }

        // Sorted so that the trie (and therefore every answer) does not depend on hash order.
        let mut entries: Vec<(String, Vec<Candidate>)> = by_key.into_iter().collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));

        let mut edges: FxHashMap<(u32, char), u32> = FxHashMap::default();
        let mut terminal: Vec<u32> = vec![NO_KEY];
        let mut keys = Vec::with_capacity(entries.len());
        let mut candidates = Vec::new();
        for (key, mut cands) in entries {
            cands.sort_by_key(|c| c.node.code);
            let mut node = 0u32;
            for ch in key.chars() {
                node = match edges.get(&(node, ch)) {
                    Some(&next) => next,
                    None => {
                        let next = terminal.len() as u32;
                        terminal.push(NO_KEY);
                        edges.insert((node, ch), next);
                        next
                    }
                };
            }
            terminal[node as usize] = keys.len() as u32;
            keys.push(Key {
                start: candidates.len() as u32,
                len: cands.len() as u32,
            });
            candidates.extend(cands);
        }

        AddressResolver {
            edges,
            terminal,
            keys,
            candidates,
            nodes,
        }
    }

    /// Resolves one address. Never panics; an address with no recognisable name gives
    /// `division: None` and a note.
    pub fn resolve(&self, address: &str) -> AddressMatch {
        let mut buf = ['\0'; MAX_CHARS];
        let mut n = 0usize;
        for c in address.chars() {
            if n == MAX_CHARS {
                break;
            }
            let h = half_width_char(c);
            if h.is_whitespace() || h == '\u{FEFF}' || SEPARATORS.contains(&h) {
                continue;
            }
            buf[n] = h;
            n += 1;
        }
        let text = &buf[..n];

        let mut hyps = [Hypothesis {
            node: Node {
                code: 0,
                up: [0, 0],
                level: Level::Province,
            },
            via: false,
        }; MAX_HYPOTHESES];
        let mut nh = 0usize;
        let mut pieces = [Piece {
            start: 0,
            end: 0,
            key: NO_KEY,
            adjacent: false,
        }; MAX_PIECES];
        let mut np = 0usize;

        let mut pos = 0usize;
        let mut last_end: Option<usize> = None;
        while pos < n && np < MAX_PIECES {
            let adjacent = last_end == Some(pos);
            let (matches, count) = self.matches_at(text, pos, adjacent);
            if count == 0 {
                pos += 1;
                continue;
            }
            let (len, key) = choose_match(&matches[..count], |len| {
                self.full_name_end(text, pos + len).map(|end| end - pos)
            });
            let end = pos + len;

            let road = self.road_follows(text, end);
            let mut next = [hyps[0]; MAX_HYPOTHESES];
            let mut nn = 0usize;
            for cand in self.key_candidates(key) {
                if !eligible(cand, adjacent, road) {
                    continue;
                }
                if nh == 0 {
                    push_hypothesis(&mut next, &mut nn, cand.node, cand.via);
                } else {
                    // The piece refines a reading only when it lies below it.
                    let mut found = false;
                    let mut via_all = true;
                    for h in &hyps[..nh] {
                        if cand.node.is_strictly_under(h.node.code) {
                            found = true;
                            via_all &= h.via || cand.via;
                        }
                    }
                    if found {
                        push_hypothesis(&mut next, &mut nn, cand.node, via_all);
                    }
                }
            }

            if nn > 0 {
                hyps[..nn].copy_from_slice(&next[..nn]);
                nh = nn;
                pieces[np] = Piece {
                    start: pos,
                    end,
                    key,
                    adjacent,
                };
                np += 1;
                last_end = Some(end);
                if hyps[..nh].iter().all(|h| h.node.level == Level::County) {
                    // Nothing is deeper than a county: the rest is street and house number.
                    break;
                }
            }
            // A piece that refines nothing is read as part of a street name and skipped whole,
            // so no other name is found inside it.
            pos = end;
        }

        self.answer(text, &hyps[..nh], &pieces[..np])
    }

    fn key_candidates(&self, key: u32) -> &[Candidate] {
        match self.keys.get(key as usize) {
            Some(k) => {
                let start = k.start as usize;
                self.candidates
                    .get(start..start + k.len as usize)
                    .unwrap_or(&[])
            }
            None => &[],
        }
    }

    /// Every name that may start at `pos`, shortest first, as (length in characters, key).
    fn matches_at(
        &self,
        text: &[char],
        pos: usize,
        adjacent: bool,
    ) -> ([(usize, u32); MAX_MATCHES], usize) {
        let mut out = [(0usize, NO_KEY); MAX_MATCHES];
        let mut count = 0usize;
        let mut node = 0u32;
        for (i, &ch) in text.iter().enumerate().skip(pos) {
            let Some(&next) = self.edges.get(&(node, ch)) else {
                break;
            };
            node = next;
            let key = self.terminal.get(node as usize).copied().unwrap_or(NO_KEY);
            if key == NO_KEY {
                continue;
            }
            let road = self.road_follows(text, i + 1);
            if self
                .key_candidates(key)
                .iter()
                .any(|c| eligible(c, adjacent, road))
                && count < MAX_MATCHES
            {
                out[count] = (i + 1 - pos, key);
                count += 1;
            }
        }
        (out, count)
    }

    /// Whether the text at `pos` is a road word (路, 街 …) that does not begin a division name.
    fn road_follows(&self, text: &[char], pos: usize) -> bool {
        match text.get(pos) {
            Some(c) if ROAD_WORDS.contains(c) => !self.any_name_starts_at(text, pos),
            Some(_) => {
                let two = (text.get(pos).copied(), text.get(pos + 1).copied());
                ROAD_PAIRS.iter().any(|&(a, b)| two == (Some(a), Some(b)))
                    && !self.any_name_starts_at(text, pos)
            }
            None => false,
        }
    }

    fn any_name_starts_at(&self, text: &[char], pos: usize) -> bool {
        let mut node = 0u32;
        for &ch in text.iter().skip(pos) {
            let Some(&next) = self.edges.get(&(node, ch)) else {
                return false;
            };
            node = next;
            if self
                .terminal
                .get(node as usize)
                .is_some_and(|&k| k != NO_KEY)
            {
                return true;
            }
        }
        false
    }

    /// The end of the longest full (not shortened) name starting at `pos`, if any.
    fn full_name_end(&self, text: &[char], pos: usize) -> Option<usize> {
        let mut node = 0u32;
        let mut end = None;
        for (i, &ch) in text.iter().enumerate().skip(pos) {
            let Some(&next) = self.edges.get(&(node, ch)) else {
                break;
            };
            node = next;
            let key = self.terminal.get(node as usize).copied().unwrap_or(NO_KEY);
            if key != NO_KEY && self.key_candidates(key).iter().any(|c| !c.short) {
                end = Some(i + 1);
            }
        }
        end
    }

    fn node(&self, code: u32) -> Option<Node> {
        self.nodes.get(&code).map(|(n, _)| *n)
    }

    /// "山东省 济南市 市中区(370103)" for notes.
    fn describe(&self, code: u32) -> String {
        let mut names: Vec<&str> = Vec::with_capacity(3);
        let mut next = code;
        for _ in 0..3 {
            let Some((node, name)) = self.nodes.get(&next) else {
                break;
            };
            if names.last() != Some(&&**name) {
                names.push(name);
            }
            next = node.up[0];
            if next == 0 {
                break;
            }
        }
        names.reverse();
        format!("{}({:06})", names.join(" "), code)
    }

    fn answer(&self, text: &[char], hyps: &[Hypothesis], pieces: &[Piece]) -> AddressMatch {
        if hyps.is_empty() {
            return AddressMatch {
                division: None,
                via_successor: false,
                matched: Vec::new(),
                note: Some("地址中未识别出省、市、县名称".to_string()),
            };
        }

        let piece_text = |p: &Piece| -> String { text[p.start..p.end].iter().collect() };

        // One reading, or readings nested in the shallowest one (吉林 = 吉林省 ⊃ 吉林市).
        let mut result: Option<(u32, bool)> = None;
        let mut note: Option<String> = None;
        for h in hyps {
            if hyps.iter().all(|o| o.node.is_at_or_under(h.node.code)) {
                result = Some((h.node.code, h.via));
                break;
            }
        }
        if result.is_none() {
            // The last accepted piece is the one that left several readings.
            let last_text = pieces.last().map(piece_text).unwrap_or_default();
            let listed: Vec<String> = hyps
                .iter()
                .take(6)
                .map(|h| self.describe(h.node.code))
                .collect();
            let more = if hyps.len() > 6 { " 等" } else { "" };
            let first = hyps[0].node;
            let common = [first.up[0], first.up[1]]
                .into_iter()
                .find(|&a| a != 0 && hyps.iter().all(|h| h.node.is_at_or_under(a)));
            match common {
                Some(a) => {
                    result = Some((a, hyps.iter().any(|h| h.via)));
                    note = Some(format!(
                        "“{last_text}”有多处：{}{more}；地址中没有可区分的名称，只确定到共同上级 {}",
                        listed.join("、"),
                        self.describe(a)
                    ));
                }
                None => {
                    note = Some(format!(
                        "“{last_text}”有多处：{}{more}；地址中没有可区分的省、市名称，无法确定",
                        listed.join("、")
                    ));
                }
            }
        }

        let Some((code, via)) = result else {
            return AddressMatch {
                division: None,
                via_successor: false,
                matched: Vec::new(),
                note,
            };
        };
        let Some(result_node) = self.node(code) else {
            return AddressMatch {
                division: None,
                via_successor: false,
                matched: Vec::new(),
                note,
            };
        };

        // Each piece stands for the shallowest of its candidates that lies on the path to the
        // result, below what the piece before it stood for.
        let mut matched = Vec::with_capacity(pieces.len());
        let mut previous: Option<u32> = None;
        let mut via_names: Vec<String> = Vec::new();
        for p in pieces {
            let road = self.road_follows(text, p.end);
            let chosen = self
                .key_candidates(p.key)
                .iter()
                .filter(|c| eligible(c, p.adjacent, road))
                .filter(|c| result_node.is_at_or_under(c.node.code))
                .filter(|c| previous.is_none_or(|prev| c.node.is_strictly_under(prev)))
                .min_by_key(|c| c.node.level.depth());
            if let Some(c) = chosen {
                if let Some(dc) = DivisionCode::from_value(c.node.code) {
                    matched.push((piece_text(p), dc));
                }
                if c.via {
                    via_names.push(piece_text(p));
                }
                previous = Some(c.node.code);
            }
        }

        if via && note.is_none() {
            let names = if via_names.is_empty() {
                String::new()
            } else {
                format!("“{}”", via_names.join("”“"))
            };
            note = Some(format!(
                "地址中的{names}为已撤销区划名称，按区划沿革表对应到现行区划 {}",
                self.describe(code)
            ));
        }

        AddressMatch {
            division: DivisionCode::from_value(code),
            via_successor: via,
            matched,
            note,
        }
    }
}

/// `road_follows`: the name is followed by a road word that does not itself begin a name
/// (唐山路南 is 唐山 + 路南区, 北京路 is a street).
fn eligible(c: &Candidate, adjacent: bool, road_follows: bool) -> bool {
    (c.anywhere || adjacent) && !(c.short && road_follows)
}

fn push_hypothesis(list: &mut [Hypothesis; MAX_HYPOTHESES], n: &mut usize, node: Node, via: bool) {
    if let Some(existing) = list[..*n].iter_mut().find(|h| h.node.code == node.code) {
        existing.via &= via;
        return;
    }
    if *n < MAX_HYPOTHESES {
        list[*n] = Hypothesis { node, via };
        *n += 1;
    }
}

/// The longest name, unless a shorter one is followed by a full name that reaches further than
/// the longest: 济南市中区 is 济南 + 市中区, while 井陉矿区 stays whole (not 井陉 + 矿区) and
/// 北京市海淀区 stays 北京市 + 海淀区. `full_name_end(len)` is the end of the longest full name
/// starting `len` characters in, relative to the same start.
fn choose_match(
    matches: &[(usize, u32)],
    full_name_end: impl Fn(usize) -> Option<usize>,
) -> (usize, u32) {
    let longest = matches[matches.len() - 1];
    if full_name_end(longest.0).is_some() {
        return longest;
    }
    for &(len, key) in matches.iter().rev().skip(1) {
        if full_name_end(len).is_some_and(|end| end > longest.0) {
            return (len, key);
        }
    }
    longest
}

/// The strings a division may be written as: its full name, and short forms (true = short).
pub(crate) fn name_variants(name: &str, level: Level) -> Vec<(String, bool)> {
    let mut out = vec![(name.to_string(), false)];
    let chars: Vec<char> = name.chars().collect();
    let ends = |suffix: &str| name.ends_with(suffix);

    let autonomous = ["自治区", "自治州", "自治县", "自治旗"]
        .into_iter()
        .find(|s| ends(s));
    if let Some(suffix) = autonomous {
        let stem: Vec<char> = chars[..chars.len() - suffix.chars().count()].to_vec();
        let short = ethnic_cut(&stem, true);
        let short: String = short.iter().collect();
        if short.chars().count() >= MIN_SHORT_CHARS {
            match suffix {
                // 恩施州, 延边州: how clerks usually write an autonomous prefecture.
                "自治州" => out.push((format!("{short}州"), true)),
                // 长阳县, 鄂伦春旗: deliberate forms, accepted like full names.
                "自治县" => out.push((format!("{short}县"), false)),
                "自治旗" => out.push((format!("{short}旗"), false)),
                _ => {}
            }
            out.push((short, true));
        }
    } else {
        let suffixes: &[&str] = match level {
            Level::Province => &["特别行政区", "省", "市"],
            Level::Prefecture => &["地区", "新区", "市", "盟"],
            Level::County => &["林区", "特区", "新区", "县", "区", "市", "旗"],
        };
        // The first suffix that leaves a real name: 金林区 is 金林, not 金 + 林区.
        let suffix = suffixes
            .iter()
            .find(|s| ends(s) && chars.len() >= s.chars().count() + MIN_SHORT_CHARS);
        if let Some(suffix) = suffix {
            let stem: Vec<char> = chars[..chars.len() - suffix.chars().count()].to_vec();
            // 管城回族区 -> 管城: ethnic districts are cut like autonomous counties.
            let stem = if stem.last() == Some(&'族') {
                ethnic_cut(&stem, false)
            } else {
                stem
            };
            out.push((stem.iter().collect(), true));
        }
    }
    out.retain(|(s, short)| !*short || (s.chars().count() >= MIN_SHORT_CHARS && s != name));
    out.dedup();
    out
}

/// Cuts a name before the first ethnic group name that is not at its very start: 恩施土家族苗族 ->
/// 恩施, 博尔塔拉蒙古 -> 博尔塔拉 (bare names of two or more characters count only for autonomous
/// divisions, `bare_ok`). A name left ending in 族 loses it (鄂温克族 -> 鄂温克).
fn ethnic_cut(stem: &[char], bare_ok: bool) -> Vec<char> {
    for i in MIN_SHORT_CHARS..stem.len() {
        for group in ETHNIC_GROUPS {
            let g: Vec<char> = group.chars().collect();
            if stem.len() < i + g.len() || stem[i..i + g.len()] != g[..] {
                continue;
            }
            let followed_by_zu = stem.get(i + g.len()) == Some(&'族');
            if followed_by_zu || (bare_ok && g.len() >= 2) {
                return stem[..i].to_vec();
            }
        }
    }
    match stem.split_last() {
        Some((&'族', rest)) if rest.len() >= MIN_SHORT_CHARS => rest.to_vec(),
        _ => stem.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    fn resolver() -> &'static (DivisionTable, AddressResolver) {
        static R: OnceLock<(DivisionTable, AddressResolver)> = OnceLock::new();
        R.get_or_init(|| {
            let t = DivisionTable::embedded();
            let r = AddressResolver::new(&t);
            (t, r)
        })
    }

    fn resolve(a: &str) -> AddressMatch {
        resolver().1.resolve(a)
    }

    fn code_of(a: &str) -> Option<String> {
        resolve(a).division.map(|d| d.to_string())
    }

    fn shorts(name: &str, level: Level) -> Vec<String> {
        name_variants(name, level)
            .into_iter()
            .filter(|(_, s)| *s)
            .map(|(n, _)| n)
            .collect()
    }

    #[test]
    fn short_names_drop_the_suffix_and_cut_before_the_ethnic_group() {
        assert_eq!(shorts("山东省", Level::Province), ["山东"]);
        assert_eq!(shorts("内蒙古自治区", Level::Province), ["内蒙古"]);
        assert_eq!(shorts("广西壮族自治区", Level::Province), ["广西"]);
        assert_eq!(shorts("新疆维吾尔自治区", Level::Province), ["新疆"]);
        assert_eq!(shorts("宁夏回族自治区", Level::Province), ["宁夏"]);
        assert_eq!(shorts("西藏自治区", Level::Province), ["西藏"]);
        assert_eq!(
            shorts("恩施土家族苗族自治州", Level::Prefecture),
            ["恩施州", "恩施"]
        );
        assert_eq!(
            shorts("延边朝鲜族自治州", Level::Prefecture),
            ["延边州", "延边"]
        );
        assert_eq!(
            shorts("博尔塔拉蒙古自治州", Level::Prefecture),
            ["博尔塔拉州", "博尔塔拉"]
        );
        assert_eq!(shorts("长阳土家族自治县", Level::County), ["长阳"]);
        assert_eq!(shorts("巍山彝族回族自治县", Level::County), ["巍山"]);
        assert_eq!(shorts("龙胜各族自治县", Level::County), ["龙胜"]);
        assert_eq!(shorts("鄂温克族自治旗", Level::County), ["鄂温克"]);
        assert_eq!(shorts("管城回族区", Level::County), ["管城"]);
        assert_eq!(shorts("大兴安岭地区", Level::Prefecture), ["大兴安岭"]);
        assert_eq!(shorts("神农架林区", Level::County), ["神农架"]);
        assert_eq!(shorts("浦东新区", Level::County), ["浦东"]);
        assert_eq!(shorts("金林区", Level::County), ["金林"]);
        assert_eq!(shorts("清新区", Level::County), ["清新"]);
        assert!(shorts("和县", Level::County).is_empty());
        assert!(shorts("城区", Level::County).is_empty());
    }

    #[test]
    fn full_names_resolve_to_counties() {
        assert_eq!(code_of("山东省济南市历下区").as_deref(), Some("370102"));
        assert_eq!(code_of("北京市海淀区").as_deref(), Some("110108"));
        assert_eq!(
            code_of("湖北省恩施土家族苗族自治州恩施市").as_deref(),
            Some("422801")
        );
    }

    #[test]
    fn short_names_with_province_resolve() {
        assert_eq!(code_of("山东济南历下").as_deref(), Some("370102"));
        assert_eq!(code_of("济南历下").as_deref(), Some("370102"));
        assert_eq!(code_of("河北唐山路南").as_deref(), Some("130202"));
        assert_eq!(code_of("黑龙江哈尔滨道里").as_deref(), Some("230102"));
        assert_eq!(code_of("河北石家庄桥西").as_deref(), Some("130104"));
        assert_eq!(code_of("北京门头沟").as_deref(), Some("110109"));
        assert_eq!(code_of("伊春金林").as_deref(), Some("230751"));
        assert_eq!(code_of("湖北恩施").as_deref(), Some("422800"));
        assert_eq!(code_of("恩施州利川市").as_deref(), Some("422802"));
        assert_eq!(code_of("延边州延吉市").as_deref(), Some("222401"));
        assert_eq!(code_of("新疆博尔塔拉博乐市").as_deref(), Some("652701"));
        assert_eq!(code_of("湖北宜昌长阳").as_deref(), Some("420528"));
        assert_eq!(code_of("云南大理巍山县").as_deref(), Some("532927"));
        assert_eq!(code_of("内蒙古呼和浩特").as_deref(), Some("150100"));
        assert_eq!(code_of("内蒙包头").as_deref(), Some("150200"));
        assert_eq!(code_of("广西南宁").as_deref(), Some("450100"));
        assert_eq!(code_of("西藏拉萨").as_deref(), Some("540100"));
        assert_eq!(code_of("宁夏银川").as_deref(), Some("640100"));
        assert_eq!(code_of("新疆乌鲁木齐").as_deref(), Some("650100"));
    }

    #[test]
    fn one_character_short_names_never_match() {
        assert_eq!(code_of("安徽省马鞍山市和县").as_deref(), Some("340523"));
        // 和 alone is not 和县.
        assert_eq!(code_of("安徽省马鞍山市和平路").as_deref(), Some("340500"));
        assert_eq!(code_of("山西省阳泉市城区").as_deref(), Some("140302"));
    }

    #[test]
    fn full_width_and_spaces_are_ignored() {
        assert_eq!(code_of("山东省　济南市 历下区").as_deref(), Some("370102"));
        assert_eq!(
            code_of(" 山东省，济南市、历下区 ").as_deref(),
            Some("370102")
        );
    }

    #[test]
    fn abolished_names_go_through_the_successor_table() {
        let m = resolve("山东省莱芜市莱城区凤城街道");
        assert_eq!(m.division.map(|d| d.to_string()).as_deref(), Some("370116"));
        assert!(m.via_successor);
        assert!(
            m.note.as_deref().is_some_and(|n| n.contains("已撤销")),
            "{m:?}"
        );
        let m = resolve("莱芜市莱城区");
        assert_eq!(m.division.map(|d| d.to_string()).as_deref(), Some("370116"));
        assert!(m.via_successor);
        let m = resolve("北京市崇文区");
        assert_eq!(m.division.map(|d| d.to_string()).as_deref(), Some("110101"));
        assert!(m.via_successor);
        let m = resolve("贵州省毕节地区黔西县");
        assert_eq!(m.division.map(|d| d.to_string()).as_deref(), Some("520581"));
        // Current names do not set the flag.
        assert!(!resolve("山东省济南市莱芜区").via_successor);
    }

    #[test]
    fn ambiguous_chaoyang_needs_a_province() {
        let m = resolve("朝阳区");
        assert_eq!(m.division, None);
        let note = m.note.unwrap_or_default();
        assert!(note.contains("110105") && note.contains("220104"), "{note}");
        assert_eq!(code_of("北京市朝阳区").as_deref(), Some("110105"));
        assert_eq!(code_of("吉林省长春市朝阳区").as_deref(), Some("220104"));
        assert_eq!(code_of("长春朝阳区").as_deref(), Some("220104"));
        assert_eq!(code_of("辽宁省朝阳市").as_deref(), Some("211300"));
    }

    #[test]
    fn ambiguous_names_fall_back_to_the_common_ancestor() {
        let m = resolve("山东省市中区");
        assert_eq!(m.division.map(|d| d.to_string()).as_deref(), Some("370000"));
        assert!(m.note.as_deref().is_some_and(|n| n.contains("共同上级")));
        assert_eq!(code_of("山东省济南市市中区").as_deref(), Some("370103"));
        assert_eq!(code_of("山东省枣庄市市中区").as_deref(), Some("370402"));
        assert_eq!(code_of("四川省内江市市中区").as_deref(), Some("511002"));
        assert_eq!(code_of("济南市中区").as_deref(), Some("370103"));
        assert_eq!(code_of("鼓楼区"), None);
        assert_eq!(code_of("江苏省南京市鼓楼区").as_deref(), Some("320106"));
        assert_eq!(code_of("福建福州鼓楼区").as_deref(), Some("350102"));
    }

    #[test]
    fn nested_names_keep_the_shallower_and_later_pieces_refine() {
        assert_eq!(code_of("吉林").as_deref(), Some("220000"));
        assert_eq!(code_of("吉林长春").as_deref(), Some("220100"));
        assert_eq!(code_of("吉林省吉林市").as_deref(), Some("220200"));
        assert_eq!(code_of("吉林省吉林市船营区").as_deref(), Some("220204"));
        assert_eq!(code_of("北京市").as_deref(), Some("110000"));
        assert_eq!(code_of("北京").as_deref(), Some("110000"));
        assert_eq!(code_of("重庆市城口县").as_deref(), Some("500229"));
        assert_eq!(code_of("重庆市重庆市万州区").as_deref(), Some("500101"));
    }

    #[test]
    fn streets_after_the_county_change_nothing() {
        assert_eq!(code_of("北京市海淀区上海路").as_deref(), Some("110108"));
        assert_eq!(
            code_of("北京市海淀区上海市黄浦区").as_deref(),
            Some("110108")
        );
        assert_eq!(code_of("广东省广州市中山大道").as_deref(), Some("440100"));
        assert_eq!(code_of("广东省中山路").as_deref(), Some("440000"));
        assert_eq!(code_of("山东省青岛市香港中路").as_deref(), Some("370200"));
        assert_eq!(code_of("中山大道西88号").as_deref(), None);
        assert_eq!(code_of("北京朝阳门内大街").as_deref(), Some("110000"));
    }

    #[test]
    fn short_county_names_need_a_piece_before_them() {
        // 历下 alone is an ordinary word, not 历下区.
        assert_eq!(code_of("历下"), None);
        // ... but the full name stands alone.
        assert_eq!(code_of("历下区").as_deref(), Some("370102"));
    }

    #[test]
    fn province_governed_cities_and_xpcc_resolve() {
        assert_eq!(code_of("湖北省仙桃市").as_deref(), Some("429004"));
        assert_eq!(code_of("新疆石河子市").as_deref(), Some("659001"));
        assert_eq!(code_of("河南济源").as_deref(), Some("419001"));
    }

    #[test]
    fn hong_kong_is_recognised_for_the_router_to_refuse() {
        assert_eq!(code_of("香港特别行政区九龙").as_deref(), Some("810000"));
        assert_eq!(code_of("苏鲁交界"), None);
    }

    #[test]
    fn nothing_recognisable_gives_a_note() {
        let m = resolve("某某路 123 号");
        assert_eq!(m.division, None);
        assert!(m.note.is_some());
        assert_eq!(resolve("").division, None);
    }

    #[test]
    fn matched_lists_the_pieces() {
        let m = resolve("山东省莱芜市莱城区");
        let pieces: Vec<(String, String)> = m
            .matched
            .iter()
            .map(|(s, c)| (s.clone(), c.to_string()))
            .collect();
        assert_eq!(
            pieces,
            [
                ("山东省".to_string(), "370000".to_string()),
                ("莱芜市".to_string(), "370100".to_string()),
                ("莱城区".to_string(), "370116".to_string()),
            ]
        );
    }

    #[test]
    fn every_current_county_resolves_from_its_full_path() {
        let (t, r) = resolver();
        let mut failures = Vec::new();
        let mut checked = 0;
        for d in t.divisions().filter(|d| d.level == Level::County) {
            if d.code.province_digits() == 99 {
                continue;
            }
            let mut path = String::new();
            let mut chain = Vec::new();
            let mut next = Some(d.code);
            while let Some(c) = next {
                let Some(x) = t.get(c) else { break };
                chain.push(x.name.clone());
                next = x.parent;
            }
            chain.reverse();
            for name in &chain {
                path.push_str(name);
            }
            checked += 1;
            let got = r.resolve(&path).division;
            if got != Some(d.code) {
                failures.push(format!("{path} -> {got:?}, want {}", d.code));
            }
        }
        assert!(checked > 2_800);
        assert!(
            failures.is_empty(),
            "{} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn every_prefecture_resolves_from_province_and_name() {
        let (t, r) = resolver();
        let mut failures = Vec::new();
        for d in t.divisions().filter(|d| d.level == Level::Prefecture) {
            if d.code.province_digits() == 99 {
                continue;
            }
            let Some(p) = d.parent.and_then(|p| t.get(p)) else {
                continue;
            };
            let path = format!("{}{}", p.name, d.name);
            let got = r.resolve(&path).division;
            // 重庆市 has two prefectures of that name (500100, 500200): only the province is
            // certain. 北京市北京市 does read as the prefecture 110100.
            let shared = t
                .divisions()
                .filter(|o| {
                    o.level == Level::Prefecture && o.name == d.name && o.parent == d.parent
                })
                .count()
                > 1;
            if got != Some(d.code) && !(shared && got == d.parent) {
                failures.push(format!("{path} -> {got:?}, want {}", d.code));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// Generated addresses, for the throughput measurement.
    pub(crate) fn generated_addresses(t: &DivisionTable, count: usize) -> Vec<String> {
        let streets = [
            "人民路12号",
            "解放大街3号院2单元",
            "建设街道幸福小区8栋",
            "中山北路100号",
            "某村3组",
        ];
        let counties: Vec<&crate::domain::division::Division> = t
            .divisions()
            .filter(|d| d.level == Level::County && d.code.province_digits() != 99)
            .collect();
        (0..count)
            .map(|i| {
                let d = counties[(i * 7919) % counties.len()];
                let street = streets[i % streets.len()];
                let mut names = Vec::new();
                let mut next = Some(d.code);
                while let Some(c) = next {
                    let Some(x) = t.get(c) else { break };
                    names.push(x.name.clone());
                    next = x.parent;
                }
                names.reverse();
                match i % 4 {
                    0 => format!("{}{}", names.join(""), street),
                    1 => format!("{} {}", names.join(" "), street),
                    // Without the province.
                    2 => format!("{}{}", names[1..].join(""), street),
                    _ => format!("{}{}", names.join(""), "附近"),
                }
            })
            .collect()
    }

    #[test]
    fn measures_resolver_throughput() {
        let (t, r) = resolver();
        let addresses = generated_addresses(t, 50_000);
        let started = std::time::Instant::now();
        let mut found = 0usize;
        for a in &addresses {
            if r.resolve(a).division.is_some() {
                found += 1;
            }
        }
        let elapsed = started.elapsed();
        let per_second = addresses.len() as f64 / elapsed.as_secs_f64();
        println!(
            "resolver: {} addresses in {:?} = {:.0} per second ({} resolved)",
            addresses.len(),
            elapsed,
            per_second,
            found
        );
        assert!(found > addresses.len() * 9 / 10);
    }
}
