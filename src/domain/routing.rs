//! Routing one record to the province, prefecture and county of its pre-enrolment household
//! registration (入学前户籍所在地), in the order of LD/T 6009-2024 §4.2: the division code
//! (direct, successor, prefecture only, province only), then the free-text address, then the
//! first six digits of the ID number, else unresolved with the reason.
//!
//! What lives here: that order, the special cases (municipalities, province-governed
//! county-level cities, XPCC, Hong Kong / Macao / Taiwan), and the clerk-facing explanation.
//! What does not: the tables (`division`), address matching (`address`), organisations and
//! queues (they take the codes of a [`Route`] and find the organisation whose jurisdiction holds
//! them).

use std::fmt;

use crate::domain::address::{AddressMatch, AddressResolver};
use crate::domain::division::{DivisionCode, DivisionTable, Level};
use crate::domain::text::half_width_char;

/// How a record was routed; stored with the record and counted per batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteMethod {
    /// The code is a current county-level code (or a current prefecture without counties).
    Direct,
    /// The code was abolished; the successor table names its current code.
    Successor,
    /// Only the prefecture is known: the record waits there for a person to pick the county.
    PrefectureOnly,
    /// Only the province is known.
    ProvinceOnly,
    /// No usable code; the free-text address named the division.
    Address,
    /// Inferred from the first six digits of the ID number (where the card was first issued).
    IdPrefix,
    /// Nothing worked; the record waits in the hub's quarantine queue.
    Unresolved,
}

impl RouteMethod {
    /// In routing order.
    pub const ALL: [RouteMethod; 7] = [
        RouteMethod::Direct,
        RouteMethod::Successor,
        RouteMethod::PrefectureOnly,
        RouteMethod::ProvinceOnly,
        RouteMethod::Address,
        RouteMethod::IdPrefix,
        RouteMethod::Unresolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RouteMethod::Direct => "direct",
            RouteMethod::Successor => "successor",
            RouteMethod::PrefectureOnly => "prefecture_only",
            RouteMethod::ProvinceOnly => "province_only",
            RouteMethod::Address => "address",
            RouteMethod::IdPrefix => "id_prefix",
            RouteMethod::Unresolved => "unresolved",
        }
    }

    /// Accepts the stored key or the Chinese label.
    pub fn parse(s: &str) -> Option<RouteMethod> {
        let s = s.trim();
        RouteMethod::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s) || m.label_zh() == s)
    }

    /// The label in the 路由方式 column of exports and on the dashboard.
    pub fn label_zh(self) -> &'static str {
        match self {
            RouteMethod::Direct => "代码直达",
            RouteMethod::Successor => "沿革代码",
            RouteMethod::PrefectureOnly => "仅到地市",
            RouteMethod::ProvinceOnly => "仅到省",
            RouteMethod::Address => "地址识别",
            RouteMethod::IdPrefix => "身份证号推断",
            RouteMethod::Unresolved => "未能路由",
        }
    }
}

impl fmt::Display for RouteMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a record goes. The codes are those of the resolved division and its parents in the
/// current table; empty below the level reached.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Route {
    pub province: Option<DivisionCode>,
    /// `None` for a county-level city governed directly by its province (`xx90xx`, XPCC
    /// `6590xx`): the province is its prefecture step.
    pub prefecture: Option<DivisionCode>,
    pub county: Option<DivisionCode>,
    pub method: RouteMethod,
    /// Why, in Chinese. Always set for `unresolved`, `id_prefix` and `successor`; also set when
    /// only a prefecture or province was reached or the address needed interpretation.
    pub note: Option<String>,
}

impl Route {
    fn unresolved(note: String) -> Route {
        Route {
            province: None,
            prefecture: None,
            county: None,
            method: RouteMethod::Unresolved,
            note: Some(note),
        }
    }

    /// The deepest code reached.
    pub fn deepest(&self) -> Option<DivisionCode> {
        self.county.or(self.prefecture).or(self.province)
    }
}

/// Province-level prefixes that have no receiving organisation: records of these go to the
/// hub's quarantine queue with the reason. 99 holds placeholders of the source table (苏鲁交界,
/// 海域) that are not GB/T 2260 divisions.
const NO_RECEIVER: [(u32, &str); 5] = [
    (71, "台湾省"),
    (81, "香港特别行政区"),
    (82, "澳门特别行政区"),
    // Residence permits of Taiwan residents (ID numbers beginning 830000).
    (83, "台湾居民居住证"),
    (99, "非 GB/T 2260 区划（苏鲁交界、海域）"),
];

fn no_receiver(code: DivisionCode) -> Option<&'static str> {
    NO_RECEIVER
        .iter()
        .find(|(p, _)| *p == code.province_digits())
        .map(|(_, name)| *name)
}

/// The trace of `explain`; costs nothing when routing (the closures are not called).
struct Trace<'a>(Option<&'a mut Vec<String>>);

impl Trace<'_> {
    fn step(&mut self, f: impl FnOnce() -> String) {
        if let Some(steps) = self.0.as_mut() {
            steps.push(f());
        }
    }
}

/// What steps 1–3 made of one code.
enum CodeOutcome {
    Routed {
        target: DivisionCode,
        method: RouteMethod,
        note: Option<String>,
    },
    NoReceiver(String),
    Unusable(String),
}

/// Owns the division table and the address resolver built from it. Built once; `route` is the
/// hot path (a batch routes every row) and allocates nothing for a direct code.
pub struct Router {
    table: DivisionTable,
    resolver: AddressResolver,
}

impl Router {
    pub fn new(table: DivisionTable) -> Router {
        let resolver = AddressResolver::new(&table);
        Router { table, resolver }
    }

    pub fn table(&self) -> &DivisionTable {
        &self.table
    }

    pub fn resolver(&self) -> &AddressResolver {
        &self.resolver
    }

    /// Routes one record from its 生源地代码, 生源地地址 and ID number (any may be missing).
    pub fn route(
        &self,
        hukou_code: Option<&str>,
        hukou_address: Option<&str>,
        id18: Option<&str>,
    ) -> Route {
        self.route_traced(hukou_code, hukou_address, id18, &mut Trace(None))
    }

    /// Routes a single value the way a clerk asks about it: a six-digit code goes through the
    /// code steps, an 18- or 15-character ID number through the ID step, anything else is read
    /// as an address. The steps tried are listed in Chinese with English.
    pub fn explain(&self, value: &str) -> Explanation {
        let input = value.trim().to_string();
        let mut steps = Vec::new();
        let route = {
            let mut trace = Trace(Some(&mut steps));
            if DivisionCode::parse(&input).is_some() {
                self.route_traced(Some(&input), None, None, &mut trace)
            } else if looks_like_id_number(&input) {
                self.route_traced(None, None, Some(&input), &mut trace)
            } else {
                self.route_traced(None, Some(&input), None, &mut trace)
            }
        };
        Explanation {
            input,
            steps,
            route,
            edition: self.table.edition().to_string(),
        }
    }

    /// The steps a record's own values go through (its code, address and, for callers who may
    /// see it, its ID number), as `explain` lists them for one value.
    pub fn explain_record(
        &self,
        hukou_code: Option<&str>,
        hukou_address: Option<&str>,
        id18: Option<&str>,
    ) -> Explanation {
        let mut steps = Vec::new();
        let route = {
            let mut trace = Trace(Some(&mut steps));
            self.route_traced(hukou_code, hukou_address, id18, &mut trace)
        };
        Explanation {
            input: [hukou_code, hukou_address]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" / "),
            steps,
            route,
            edition: self.table.edition().to_string(),
        }
    }

    fn route_traced(
        &self,
        hukou_code: Option<&str>,
        hukou_address: Option<&str>,
        id18: Option<&str>,
        trace: &mut Trace<'_>,
    ) -> Route {
        // Reasons are only collected on the way to `unresolved`; an empty Vec does not allocate.
        let mut reasons: Vec<String> = Vec::new();

        // Steps 1–3: the code.
        match hukou_code.map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                trace
                    .step(|| "生源地代码：缺失，跳过第 1–3 步 / no code: steps 1–3 skipped".into());
                reasons.push("生源地代码缺失".into());
            }
            Some(raw) => match DivisionCode::parse(raw) {
                None => {
                    trace.step(|| {
                        format!("生源地代码：“{raw}”不是 6 位数字，跳过第 1–3 步 / \"{raw}\" is not six digits: steps 1–3 skipped")
                    });
                    reasons.push(format!("生源地代码“{raw}”不是 6 位数字"));
                }
                Some(code) => match self.by_code(code, trace) {
                    CodeOutcome::Routed {
                        target,
                        method,
                        note,
                    } => return self.route_to(target, method, note),
                    CodeOutcome::NoReceiver(note) => return Route::unresolved(note),
                    CodeOutcome::Unusable(reason) => reasons.push(reason),
                },
            },
        }

        // Step 4: the address.
        match hukou_address.map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                trace.step(|| "address 地址识别：生源地地址缺失 / no address".into());
                reasons.push("生源地地址缺失".into());
            }
            Some(address) => {
                let m = self.resolver.resolve(address);
                trace.step(|| describe_address_match(&self.table, address, &m));
                match m.division {
                    Some(code) => {
                        if let Some(name) = no_receiver(code) {
                            let note = format!("生源地地址指向{name}（{code}），无接收机构");
                            trace.step(|| format!("{note} / no receiving organisation"));
                            return Route::unresolved(note);
                        }
                        if self.table.get(code).is_some() {
                            return self.route_to(code, RouteMethod::Address, m.note);
                        }
                        reasons.push(format!("生源地地址识别为 {code}，但不在现行区划表中"));
                    }
                    None => reasons.push(format!(
                        "生源地地址“{}”未能识别{}",
                        shorten(address, 40),
                        m.note.map(|n| format!("（{n}）")).unwrap_or_default()
                    )),
                }
            }
        }

        // Step 5: the first six digits of the ID number.
        match id18.map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                trace.step(|| "id_prefix 身份证号推断：无身份证号 / no ID number".into());
                reasons.push("无身份证号".into());
            }
            Some(id) => {
                let prefix: String = id.chars().map(half_width_char).take(6).collect();
                match DivisionCode::parse(&prefix) {
                    None => {
                        trace.step(|| {
                            format!("id_prefix 身份证号推断：前六位“{prefix}”不是数字 / the first six characters are not digits")
                        });
                        reasons.push(format!("身份证号前六位“{prefix}”不是数字"));
                    }
                    Some(code) => {
                        trace.step(|| {
                            format!("id_prefix 身份证号推断：以前六位 {code} 重复第 1–3 步 / steps 1–3 with the ID prefix {code}")
                        });
                        match self.by_code(code, trace) {
                            CodeOutcome::Routed {
                                target,
                                method,
                                note,
                            } => {
                                let note = format!(
                                    "生源地代码和地址均不可用，按身份证号前六位 {code} 推断（{}）；前六位是初次办证地，不一定是入学前户籍地，置信度较低{}",
                                    method.label_zh(),
                                    note.map(|n| format!("。{n}")).unwrap_or_default()
                                );
                                return self.route_to(target, RouteMethod::IdPrefix, Some(note));
                            }
                            CodeOutcome::NoReceiver(note) => {
                                return Route::unresolved(format!("按身份证号前六位：{note}"))
                            }
                            CodeOutcome::Unusable(reason) => {
                                reasons.push(format!("身份证号前六位：{reason}"))
                            }
                        }
                    }
                }
            }
        }

        // Step 6.
        let note = format!("未能路由，留在中心待处理队列：{}", reasons.join("；"));
        trace.step(|| {
            format!(
                "unresolved 未能路由：{} / nothing usable",
                reasons.join("；")
            )
        });
        Route::unresolved(note)
    }

    /// Steps 1–3 for one code.
    fn by_code(&self, code: DivisionCode, trace: &mut Trace<'_>) -> CodeOutcome {
        if let Some(name) = no_receiver(code) {
            let note = format!("代码 {code} 属{name}，无接收机构");
            trace.step(|| format!("{note} / no receiving organisation"));
            return CodeOutcome::NoReceiver(note);
        }

        // Step 1 (and the current prefecture / province codes of step 3).
        if let Some(d) = self.table.get(code) {
            return match d.level {
                Level::County => {
                    trace.step(|| {
                        format!(
                            "direct 代码直达：{code} 是现行县级代码（{}） / current county-level code — 命中 hit",
                            self.table.name_path(code)
                        )
                    });
                    CodeOutcome::Routed {
                        target: code,
                        method: RouteMethod::Direct,
                        note: None,
                    }
                }
                Level::Prefecture if self.table.children(code).is_empty() => {
                    trace.step(|| {
                        format!(
                            "direct 代码直达：{code} 是现行地级代码且不设县级区划（{}），本身即最低一级 / current prefecture without counties, its own lowest level — 命中 hit",
                            self.table.name_path(code)
                        )
                    });
                    CodeOutcome::Routed {
                        target: code,
                        method: RouteMethod::Direct,
                        note: None,
                    }
                }
                Level::Prefecture => {
                    let path = self.table.name_path(code);
                    trace.step(|| {
                        format!("prefecture_only 仅到地市：{code} 是现行地级代码（{path}） / a current prefecture code — 命中 hit")
                    });
                    CodeOutcome::Routed {
                        target: code,
                        method: RouteMethod::PrefectureOnly,
                        note: Some(format!(
                            "生源地代码 {code} 是地级代码（{path}），只能确定到地市，待地市分配区县"
                        )),
                    }
                }
                Level::Province => {
                    let path = self.table.name_path(code);
                    trace.step(|| {
                        format!("province_only 仅到省：{code} 是现行省级代码（{path}） / a current province code — 命中 hit")
                    });
                    CodeOutcome::Routed {
                        target: code,
                        method: RouteMethod::ProvinceOnly,
                        note: Some(format!(
                            "生源地代码 {code} 是省级代码（{path}），只能确定到省，待省级分配"
                        )),
                    }
                }
            };
        }
        trace.step(|| {
            format!(
                "direct 代码直达：{code} 不在现行区划表（{}版）中 / not a current code",
                self.table.edition()
            )
        });

        // Step 2.
        if let Some(target) = self.table.current_successor(code) {
            let chain = self.describe_chain(code);
            if let Some(name) = no_receiver(target) {
                let note = format!("{chain}；现行代码属{name}，无接收机构");
                trace.step(|| format!("successor 沿革代码：{note} / no receiving organisation"));
                return CodeOutcome::NoReceiver(note);
            }
            trace.step(|| {
                format!("successor 沿革代码：{chain} / abolished, successor found — 命中 hit")
            });
            return CodeOutcome::Routed {
                target,
                method: RouteMethod::Successor,
                note: Some(chain),
            };
        }
        trace.step(|| {
            format!("successor 沿革代码：{code} 不在沿革表中 / not in the successor table")
        });

        // Step 3.
        let prefecture = code.prefecture_code();
        if prefecture != code {
            if let Some(p) = self
                .table
                .get(prefecture)
                .filter(|p| p.level == Level::Prefecture)
            {
                let path = self.table.name_path(p.code);
                trace.step(|| {
                    format!("prefecture_only 仅到地市：前四位对应现行地级区划 {prefecture}（{path}） / the first four digits name a current prefecture — 命中 hit")
                });
                return CodeOutcome::Routed {
                    target: prefecture,
                    method: RouteMethod::PrefectureOnly,
                    note: Some(format!(
                        "生源地代码 {code} 不在现行区划表和沿革表中，按前四位归入 {path}（{prefecture}），待地市分配区县"
                    )),
                };
            }
            trace.step(|| {
                format!("prefecture_only 仅到地市：{prefecture} 不是现行地级区划 / {prefecture} is not a current prefecture")
            });
        }
        let province = code.province_code();
        if province != code {
            if let Some(p) = self
                .table
                .get(province)
                .filter(|p| p.level == Level::Province)
            {
                let path = self.table.name_path(p.code);
                trace.step(|| {
                    format!("province_only 仅到省：前两位对应现行省级区划 {province}（{path}） / the first two digits name a current province — 命中 hit")
                });
                return CodeOutcome::Routed {
                    target: province,
                    method: RouteMethod::ProvinceOnly,
                    note: Some(format!(
                        "生源地代码 {code} 不在现行区划表和沿革表中，按前两位归入 {path}（{province}），待省级分配"
                    )),
                };
            }
        }
        trace.step(|| {
            format!("province_only 仅到省：{province} 不是现行省级区划 / {province} is not a current province")
        });
        CodeOutcome::Unusable(format!(
            "代码 {code} 不在现行区划表和沿革表中，前四位、前两位也无对应区划"
        ))
    }

    /// "371202 莱城区（2019-01-09 起撤销；依据…）→ 370116 山东省 济南市 莱芜区".
    fn describe_chain(&self, old: DivisionCode) -> String {
        let chain = self.table.successor_chain(old);
        let mut out = String::new();
        for (i, row) in chain.iter().enumerate() {
            if i > 0 {
                out.push_str(" → ");
            }
            out.push_str(&format!(
                "{} {}（{} 起撤销；{}）",
                row.old_code, row.old_name, row.effective, row.note
            ));
        }
        if let Some(end) = self.table.current_successor(old) {
            out.push_str(&format!(" → 现行 {} {}", end, self.table.name_path(end)));
        }
        out
    }

    /// The route to a current division: its own code at its level and its parents above.
    fn route_to(&self, target: DivisionCode, method: RouteMethod, note: Option<String>) -> Route {
        let Some(d) = self.table.get(target) else {
            // Only current codes reach here; kept as a quarantine rather than a panic.
            return Route::unresolved(format!("内部错误：{target} 不在现行区划表中"));
        };
        Route {
            province: self.table.province_of(target),
            prefecture: self.table.prefecture_of(target),
            county: (d.level == Level::County).then_some(target),
            method,
            note,
        }
    }
}

fn looks_like_id_number(s: &str) -> bool {
    let chars: Vec<char> = s.chars().map(half_width_char).collect();
    match chars.len() {
        18 => {
            chars[..17].iter().all(char::is_ascii_digit)
                && (chars[17].is_ascii_digit() || chars[17] == 'X' || chars[17] == 'x')
        }
        15 => chars.iter().all(char::is_ascii_digit),
        _ => false,
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max).collect();
        out.push('…');
        out
    }
}

fn describe_address_match(table: &DivisionTable, address: &str, m: &AddressMatch) -> String {
    let pieces: Vec<String> = m
        .matched
        .iter()
        .map(|(text, code)| format!("“{text}”→{code}"))
        .collect();
    let recognised = if pieces.is_empty() {
        "未确定任何区划 / no division determined".to_string()
    } else {
        format!("识别出 / recognised {}", pieces.join("，"))
    };
    let result = match m.division {
        Some(code) => format!(
            "结果 {code}（{}）{} — 命中 hit",
            table.name_path(code),
            if m.via_successor {
                "，经沿革表 / via the successor table"
            } else {
                ""
            }
        ),
        None => "无结果 / no result".to_string(),
    };
    let note = m
        .note
        .as_ref()
        .map(|n| format!("；说明：{n}"))
        .unwrap_or_default();
    format!(
        "address 地址识别：“{}”：{recognised}；{result}{note}",
        shorten(address, 60)
    )
}

/// The answer of `gradhub route --explain VALUE` and of the same API call.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Explanation {
    pub input: String,
    /// The steps tried, in order, in Chinese with English.
    pub steps: Vec<String>,
    pub route: Route,
    /// The division-table edition used.
    pub edition: String,
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "输入 / input: {}", self.input)?;
        writeln!(f, "区划表版本 / edition: {}", self.edition)?;
        writeln!(f, "步骤 / steps:")?;
        for (i, step) in self.steps.iter().enumerate() {
            writeln!(f, "  {}. {}", i + 1, step)?;
        }
        let r = &self.route;
        writeln!(
            f,
            "结果 / result: {} {}",
            r.method.as_str(),
            r.method.label_zh()
        )?;
        let show = |c: Option<DivisionCode>| c.map(|c| c.to_string()).unwrap_or_else(|| "—".into());
        writeln!(
            f,
            "  省 province: {}   市 prefecture: {}   县 county: {}",
            show(r.province),
            show(r.prefecture),
            show(r.county)
        )?;
        if let Some(note) = &r.note {
            writeln!(f, "说明 / note: {note}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    fn router() -> &'static Router {
        static R: OnceLock<Router> = OnceLock::new();
        R.get_or_init(|| Router::new(DivisionTable::embedded()))
    }

    fn c(s: &str) -> Option<DivisionCode> {
        DivisionCode::parse(s)
    }

    fn codes(r: &Route) -> (Option<String>, Option<String>, Option<String>) {
        (
            r.province.map(|c| c.to_string()),
            r.prefecture.map(|c| c.to_string()),
            r.county.map(|c| c.to_string()),
        )
    }

    fn s(x: &str) -> Option<String> {
        Some(x.to_string())
    }

    #[test]
    fn method_names_round_trip() {
        for m in RouteMethod::ALL {
            assert_eq!(RouteMethod::parse(m.as_str()), Some(m));
            assert_eq!(RouteMethod::parse(m.label_zh()), Some(m));
        }
        assert_eq!(RouteMethod::parse("nope"), None);
        assert_eq!(
            RouteMethod::ALL
                .iter()
                .map(|m| m.as_str())
                .collect::<Vec<_>>(),
            [
                "direct",
                "successor",
                "prefecture_only",
                "province_only",
                "address",
                "id_prefix",
                "unresolved"
            ]
        );
    }

    #[test]
    fn routes_current_county_directly() {
        let r = router().route(Some("370102"), None, None);
        assert_eq!(r.method, RouteMethod::Direct);
        assert_eq!(codes(&r), (s("370000"), s("370100"), s("370102")));
        assert_eq!(r.note, None);
        let r = router().route(Some(" ３７０１０２ "), None, None);
        assert_eq!(r.method, RouteMethod::Direct);
    }

    #[test]
    fn municipality_districts_sit_under_the_xx0100_prefecture() {
        let r = router().route(Some("110105"), None, None);
        assert_eq!(codes(&r), (s("110000"), s("110100"), s("110105")));
        let r = router().route(Some("500229"), None, None);
        assert_eq!(codes(&r), (s("500000"), s("500200"), s("500229")));
    }

    #[test]
    fn province_governed_city_has_no_prefecture() {
        let r = router().route(Some("429004"), None, None);
        assert_eq!(r.method, RouteMethod::Direct);
        assert_eq!(codes(&r), (s("420000"), None, s("429004")));
    }

    #[test]
    fn xpcc_city_routes_to_xinjiang_without_prefecture() {
        let r = router().route(Some("659001"), None, None);
        assert_eq!(r.method, RouteMethod::Direct);
        assert_eq!(codes(&r), (s("650000"), None, s("659001")));
    }

    #[test]
    fn prefecture_without_counties_is_its_own_lowest_level() {
        for code in ["441900", "442000", "460400", "620200"] {
            let r = router().route(Some(code), None, None);
            assert_eq!(r.method, RouteMethod::Direct, "{code}");
            assert_eq!(r.prefecture, c(code));
            assert_eq!(r.county, None);
        }
    }

    #[test]
    fn routes_laiwu_district_through_successor() {
        let r = router().route(Some("371202"), None, None);
        assert_eq!(r.method, RouteMethod::Successor);
        assert_eq!(codes(&r), (s("370000"), s("370100"), s("370116")));
        let note = r.note.unwrap_or_default();
        assert!(note.contains("莱城区") && note.contains("370116"), "{note}");
        let r = router().route(Some("371203"), None, None);
        assert_eq!(r.county, c("370117"));
        // The abolished prefecture routes at the successor's level.
        let r = router().route(Some("371200"), None, None);
        assert_eq!(r.method, RouteMethod::Successor);
        assert_eq!(codes(&r), (s("370000"), s("370100"), None));
    }

    #[test]
    fn successor_chains_are_followed() {
        let r = router().route(Some("341422"), None, None);
        assert_eq!(r.method, RouteMethod::Successor);
        assert_eq!(r.county, c("340281"));
        assert_eq!(r.prefecture, c("340200"));
        let r = router().route(Some("469003"), None, None);
        assert_eq!(codes(&r), (s("460000"), s("460400"), None));
    }

    #[test]
    fn unknown_code_falls_back_to_prefecture_then_province() {
        let r = router().route(Some("370199"), None, None);
        assert_eq!(r.method, RouteMethod::PrefectureOnly);
        assert_eq!(codes(&r), (s("370000"), s("370100"), None));
        assert!(r.note.is_some());
        let r = router().route(Some("379999"), None, None);
        assert_eq!(r.method, RouteMethod::ProvinceOnly);
        assert_eq!(codes(&r), (s("370000"), None, None));
        // A current prefecture or province code itself.
        assert_eq!(
            router().route(Some("370100"), None, None).method,
            RouteMethod::PrefectureOnly
        );
        assert_eq!(
            router().route(Some("370000"), None, None).method,
            RouteMethod::ProvinceOnly
        );
        // Order: the code's prefix wins over the address.
        let r = router().route(Some("370199"), Some("山东省济南市历下区"), None);
        assert_eq!(r.method, RouteMethod::PrefectureOnly);
    }

    #[test]
    fn hong_kong_code_is_unresolved() {
        for code in ["810000", "820000", "710000", "810102"] {
            let r = router().route(
                Some(code),
                Some("山东省济南市历下区"),
                Some("370102200001011234"),
            );
            assert_eq!(r.method, RouteMethod::Unresolved, "{code}");
            assert!(
                r.note.as_deref().is_some_and(|n| n.contains("无接收机构")),
                "{r:?}"
            );
            assert_eq!(r.province, None);
        }
        let r = router().route(None, Some("香港特别行政区九龙"), None);
        assert_eq!(r.method, RouteMethod::Unresolved);
        let r = router().route(None, None, Some("830000200001011234"));
        assert_eq!(r.method, RouteMethod::Unresolved);
        assert!(
            r.note.as_deref().is_some_and(|n| n.contains("无接收机构")),
            "{r:?}"
        );
    }

    #[test]
    fn unusable_code_falls_through_to_the_address() {
        let r = router().route(Some("12345"), Some("山东省济南市历下区"), None);
        assert_eq!(r.method, RouteMethod::Address);
        assert_eq!(codes(&r), (s("370000"), s("370100"), s("370102")));
        let r = router().route(None, Some("湖北恩施"), None);
        assert_eq!(r.method, RouteMethod::Address);
        assert_eq!(codes(&r), (s("420000"), s("422800"), None));
        // Neither province nor anything else known in the code.
        let r = router().route(Some("000001"), Some("山东济南历下"), None);
        assert_eq!(r.method, RouteMethod::Address);
    }

    #[test]
    fn address_through_abolished_names_keeps_the_note() {
        let r = router().route(None, Some("山东省莱芜市莱城区"), None);
        assert_eq!(r.method, RouteMethod::Address);
        assert_eq!(r.county, c("370116"));
        assert!(r.note.as_deref().is_some_and(|n| n.contains("已撤销")));
    }

    #[test]
    fn id_prefix_is_the_last_resort_and_says_so() {
        let r = router().route(None, Some("某某路 1 号"), Some("110105200001011234"));
        assert_eq!(r.method, RouteMethod::IdPrefix);
        assert_eq!(codes(&r), (s("110000"), s("110100"), s("110105")));
        assert!(r
            .note
            .as_deref()
            .is_some_and(|n| n.contains("推断") && n.contains("置信度较低")));
        // Through the successor table too.
        let r = router().route(None, None, Some("371202199901011234"));
        assert_eq!(r.method, RouteMethod::IdPrefix);
        assert_eq!(r.county, c("370116"));
    }

    #[test]
    fn nothing_usable_is_unresolved_with_reasons() {
        let r = router().route(None, None, None);
        assert_eq!(r.method, RouteMethod::Unresolved);
        let note = r.note.unwrap_or_default();
        assert!(
            note.contains("生源地代码缺失")
                && note.contains("地址缺失")
                && note.contains("无身份证号"),
            "{note}"
        );
        let r = router().route(Some("abc"), Some("朝阳区"), Some("000001200001011234"));
        assert_eq!(r.method, RouteMethod::Unresolved);
        let note = r.note.unwrap_or_default();
        assert!(
            note.contains("abc") && note.contains("朝阳区") && note.contains("000001"),
            "{note}"
        );
    }

    #[test]
    fn explain_lists_the_steps() {
        let e = router().explain("371202");
        assert_eq!(e.route.method, RouteMethod::Successor);
        assert_eq!(e.edition, "2025-12-31");
        assert!(e.steps.len() >= 2);
        assert!(e.steps[0].contains("direct"));
        let text = e.to_string();
        assert!(
            text.contains("370116") && text.contains("successor") && text.contains("步骤"),
            "{text}"
        );
        let e = router().explain("吉林省长春市朝阳区");
        assert_eq!(e.route.method, RouteMethod::Address);
        assert_eq!(e.route.county, c("220104"));
        assert!(
            e.steps.iter().any(|s| s.contains("“朝阳区”→220104")),
            "{:?}",
            e.steps
        );
        let e = router().explain("110105200001011234");
        assert_eq!(e.route.method, RouteMethod::IdPrefix);
        let e = router().explain("999999");
        assert_eq!(e.route.method, RouteMethod::Unresolved);
    }

    #[test]
    fn notes_are_set_where_the_contract_says() {
        let cases = [
            router().route(Some("371202"), None, None),
            router().route(None, None, Some("110105200001011234")),
            router().route(None, None, None),
        ];
        for r in cases {
            assert!(r.note.is_some(), "{r:?}");
        }
    }

    #[test]
    fn routes_a_million_direct_codes_quickly() {
        let r = router();
        let codes: Vec<String> = r
            .table()
            .divisions()
            .filter(|d| d.level == Level::County)
            .map(|d| d.code.to_string())
            .collect();
        let started = std::time::Instant::now();
        let mut direct = 0usize;
        for i in 0..1_000_000 {
            let code = &codes[i % codes.len()];
            if r.route(Some(code), None, None).method == RouteMethod::Direct {
                direct += 1;
            }
        }
        println!("router: 1,000,000 direct routes in {:?}", started.elapsed());
        assert!(direct > 990_000);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn route_never_panics(code in ".{0,12}", address in ".{0,60}", id in ".{0,20}") {
                let r = router().route(Some(&code), Some(&address), Some(&id));
                if r.method == RouteMethod::Unresolved {
                    prop_assert!(r.note.is_some());
                    prop_assert!(r.province.is_none());
                }
            }

            #[test]
            fn resolve_never_panics(address in "\\PC{0,300}") {
                let m = router().resolver().resolve(&address);
                if let Some(code) = m.division {
                    prop_assert!(router().table().get(code).is_some());
                }
            }

            #[test]
            fn resolve_never_panics_on_name_soup(parts in proptest::collection::vec(0usize..4000, 0..8)) {
                // Real names glued in random order: the hardest input for the piece rules.
                let names: Vec<&str> = router().table().divisions().map(|d| d.name.as_str()).collect();
                let address: String = parts.iter().map(|&i| names[i % names.len()]).collect();
                let _ = router().resolver().resolve(&address);
                let _ = router().explain(&address);
            }

            #[test]
            fn six_digit_codes_always_route_somewhere_or_explain_why(v in 0u32..1_000_000) {
                let code = format!("{v:06}");
                let r = router().route(Some(&code), None, None);
                prop_assert!(r.method != RouteMethod::Address && r.method != RouteMethod::IdPrefix);
                if r.method == RouteMethod::Unresolved {
                    prop_assert!(r.note.is_some());
                }
            }
        }
    }
}
