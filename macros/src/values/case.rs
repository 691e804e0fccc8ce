//! serde's `rename_all` rules, applied the way serde applies them (`serde_derive`'s
//! `internals/case.rs`), so that a payload's field and variant names read as they travel.

/// A `#[serde(rename_all = "..")]` rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RenameRule {
    Lower,
    Upper,
    Pascal,
    Camel,
    Snake,
    ScreamingSnake,
    Kebab,
    ScreamingKebab,
}

impl RenameRule {
    /// The rule serde reads from `text`; `None` for what serde itself would refuse.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "lowercase" => RenameRule::Lower,
            "UPPERCASE" => RenameRule::Upper,
            "PascalCase" => RenameRule::Pascal,
            "camelCase" => RenameRule::Camel,
            "snake_case" => RenameRule::Snake,
            "SCREAMING_SNAKE_CASE" => RenameRule::ScreamingSnake,
            "kebab-case" => RenameRule::Kebab,
            "SCREAMING-KEBAB-CASE" => RenameRule::ScreamingKebab,
            _ => return None,
        })
    }

    /// A field name, written in `snake_case` in Rust.
    pub(crate) fn apply_to_field(self, field: &str) -> String {
        match self {
            RenameRule::Lower | RenameRule::Snake => field.to_owned(),
            RenameRule::Upper | RenameRule::ScreamingSnake => field.to_ascii_uppercase(),
            RenameRule::Pascal => {
                let mut pascal = String::new();
                let mut capitalize = true;
                for ch in field.chars() {
                    if ch == '_' {
                        capitalize = true;
                    } else if capitalize {
                        pascal.push(ch.to_ascii_uppercase());
                        capitalize = false;
                    } else {
                        pascal.push(ch);
                    }
                }
                pascal
            }
            RenameRule::Camel => {
                let pascal = RenameRule::Pascal.apply_to_field(field);
                lower_first(&pascal)
            }
            RenameRule::Kebab => field.replace('_', "-"),
            RenameRule::ScreamingKebab => field.to_ascii_uppercase().replace('_', "-"),
        }
    }

    /// A variant name, written in `PascalCase` in Rust.
    pub(crate) fn apply_to_variant(self, variant: &str) -> String {
        match self {
            RenameRule::Pascal => variant.to_owned(),
            RenameRule::Lower => variant.to_ascii_lowercase(),
            RenameRule::Upper => variant.to_ascii_uppercase(),
            RenameRule::Camel => lower_first(variant),
            RenameRule::Snake => {
                let mut snake = String::new();
                for (i, ch) in variant.char_indices() {
                    if i > 0 && ch.is_uppercase() {
                        snake.push('_');
                    }
                    snake.push(ch.to_ascii_lowercase());
                }
                snake
            }
            RenameRule::ScreamingSnake => RenameRule::Snake
                .apply_to_variant(variant)
                .to_ascii_uppercase(),
            RenameRule::Kebab => RenameRule::Snake
                .apply_to_variant(variant)
                .replace('_', "-"),
            RenameRule::ScreamingKebab => RenameRule::ScreamingSnake
                .apply_to_variant(variant)
                .replace('_', "-"),
        }
    }
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_variants_as_serde_renames_them() {
        let cases = [
            (
                "lowercase",
                "order_id",
                "order_id",
                "VeryTasty",
                "verytasty",
            ),
            (
                "UPPERCASE",
                "order_id",
                "ORDER_ID",
                "VeryTasty",
                "VERYTASTY",
            ),
            (
                "PascalCase",
                "order_id",
                "OrderId",
                "VeryTasty",
                "VeryTasty",
            ),
            ("camelCase", "order_id", "orderId", "VeryTasty", "veryTasty"),
            (
                "snake_case",
                "order_id",
                "order_id",
                "VeryTasty",
                "very_tasty",
            ),
            (
                "SCREAMING_SNAKE_CASE",
                "order_id",
                "ORDER_ID",
                "VeryTasty",
                "VERY_TASTY",
            ),
            (
                "kebab-case",
                "order_id",
                "order-id",
                "VeryTasty",
                "very-tasty",
            ),
            (
                "SCREAMING-KEBAB-CASE",
                "order_id",
                "ORDER-ID",
                "VeryTasty",
                "VERY-TASTY",
            ),
        ];
        for (rule, field, renamed_field, variant, renamed_variant) in cases {
            let rule = RenameRule::parse(rule).unwrap();
            assert_eq!(rule.apply_to_field(field), renamed_field, "{rule:?}");
            assert_eq!(rule.apply_to_variant(variant), renamed_variant, "{rule:?}");
        }
        assert_eq!(RenameRule::parse("Title Case"), None);
    }
}
