//! Content model of the shop, deserialised from `catalog.json`.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;

/// Page language. Russian lives at the site root, English under `/en/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Ru,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Ru, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Ru => "ru",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Ru => Lang::En,
            Lang::En => Lang::Ru,
        }
    }

    /// Absolute URL path of a language-neutral page path such as `/product/x/`.
    pub fn url(self, path: &str) -> String {
        match self {
            Lang::Ru => path.to_owned(),
            Lang::En => format!("/en{path}"),
        }
    }
}

/// A piece of copy in both languages.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct L {
    pub ru: String,
    pub en: String,
}

impl L {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ru => &self.ru,
            Lang::En => &self.en,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    pub shop: Shop,
    pub ui: Ui,
    /// Attribute key -> label, e.g. `"weight" -> {"ru": "Вес", "en": "Weight"}`.
    pub attributes: BTreeMap<String, L>,
    pub categories: Vec<Category>,
    pub products: Vec<Product>,
    pub guide: Vec<GuideTab>,
    pub about: Vec<Section>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shop {
    pub name: L,
    pub tagline: L,
    pub phone: String,
    pub address: L,
    pub hours: L,
}

/// Interface copy shared by all pages.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ui {
    pub home_title: L,
    pub home_description: L,
    pub hero_title: L,
    pub hero_text: L,
    pub hero_cta: L,
    pub hero_cta_guide: L,
    pub benefits: Vec<Benefit>,
    pub categories_heading: L,
    pub featured_heading: L,
    pub guide_promo_title: L,
    pub guide_promo_text: L,
    pub nav_home: L,
    pub nav_guide: L,
    pub nav_about: L,
    pub cart: L,
    /// Name of each language in itself, e.g. "English" (title of the language switch).
    pub lang_name: L,
    pub add_to_cart: L,
    pub added_to_cart: L,
    pub in_stock: L,
    pub sku: L,
    pub specs_heading: L,
    pub description_heading: L,
    pub related_heading: L,
    pub perks: Vec<L>,
    pub catalog_heading: L,
    pub customers_heading: L,
    pub guide_title: L,
    pub guide_description: L,
    pub guide_intro: L,
    pub about_title: L,
    pub about_description: L,
    pub about_intro: L,
    pub contacts_heading: L,
    pub phone_label: L,
    pub address_label: L,
    pub hours_label: L,
    pub footer_note: L,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Benefit {
    pub title: L,
    pub text: L,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub slug: String,
    pub name: L,
    pub teaser: L,
    pub description: L,
    /// Slug of the product whose picture illustrates the category tile.
    pub cover: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub slug: String,
    pub sku: String,
    pub category: String,
    pub brand: String,
    pub name: L,
    pub description: L,
    /// Price in whole roubles.
    pub price: u32,
    #[serde(default)]
    pub old_price: Option<u32>,
    #[serde(default)]
    pub featured: bool,
    /// The ages the product suits, in months (`[0, 48]`: from birth to four years), published on
    /// its page as schema.org `audience`; the `age` attribute says the same in words.
    pub age_months: [u16; 2],
    pub attributes: Vec<Attr>,
    pub related: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attr {
    pub key: String,
    pub value: L,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuideTab {
    pub slug: String,
    pub title: L,
    pub intro: L,
    pub products: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub title: L,
    pub paragraphs: Vec<L>,
}

impl Catalog {
    /// Parses and validates the catalog.
    pub fn parse(json: &str) -> Result<Catalog, String> {
        let catalog: Catalog =
            serde_json::from_str(json).map_err(|e| format!("catalog.json: {e}"))?;
        catalog.validate()?;
        Ok(catalog)
    }

    pub fn product(&self, slug: &str) -> Option<&Product> {
        self.products.iter().find(|p| p.slug == slug)
    }

    pub fn category(&self, slug: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.slug == slug)
    }

    pub fn products_in<'a>(&'a self, category: &'a str) -> impl Iterator<Item = &'a Product> {
        self.products.iter().filter(move |p| p.category == category)
    }

    /// Resolves a list of product slugs (already validated, unknown ones are skipped).
    pub fn products_by_slug<'a>(
        &'a self,
        slugs: &'a [String],
    ) -> impl Iterator<Item = &'a Product> {
        slugs.iter().filter_map(|s| self.product(s))
    }

    /// Checks cross references so that rendering never meets a dangling slug.
    fn validate(&self) -> Result<(), String> {
        let mut errors = Vec::new();
        let slug_ok = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
        let mut seen = HashSet::new();
        for c in &self.categories {
            if !slug_ok(&c.slug) || !seen.insert(c.slug.as_str()) {
                errors.push(format!("bad or duplicate category slug {:?}", c.slug));
            }
            if self.product(&c.cover).is_none() {
                errors.push(format!(
                    "category {}: unknown cover product {:?}",
                    c.slug, c.cover
                ));
            }
            if self.products_in(&c.slug).next().is_none() {
                errors.push(format!("category {} has no products", c.slug));
            }
        }
        let mut slugs = HashSet::new();
        let mut skus = HashSet::new();
        for p in &self.products {
            if !slug_ok(&p.slug) || !slugs.insert(p.slug.as_str()) {
                errors.push(format!("bad or duplicate product slug {:?}", p.slug));
            }
            if p.sku.is_empty() || !skus.insert(p.sku.as_str()) {
                errors.push(format!("bad or duplicate sku {:?}", p.sku));
            }
            if self.category(&p.category).is_none() {
                errors.push(format!("{}: unknown category {:?}", p.slug, p.category));
            }
            if p.price == 0 || p.old_price.is_some_and(|old| old <= p.price) {
                errors.push(format!("{}: price must be > 0 and below old_price", p.slug));
            }
            for a in &p.attributes {
                if !self.attributes.contains_key(&a.key) {
                    errors.push(format!("{}: unknown attribute {:?}", p.slug, a.key));
                }
            }
            for r in &p.related {
                if *r == p.slug || self.product(r).is_none() {
                    errors.push(format!("{}: bad related product {:?}", p.slug, r));
                }
            }
        }
        for tab in &self.guide {
            if !slug_ok(&tab.slug) {
                errors.push(format!("bad guide tab slug {:?}", tab.slug));
            }
            for s in tab.products.iter().filter(|s| self.product(s).is_none()) {
                errors.push(format!("guide tab {}: unknown product {:?}", tab.slug, s));
            }
        }
        if self.guide.is_empty() {
            errors.push("the gift guide needs at least one tab".into());
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "catalog.json is inconsistent:\n  {}",
                errors.join("\n  ")
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_catches_dangling_references() {
        let json = crate::tests::catalog_json().replacen(
            "\"related\": [",
            "\"related\": [\"no-such-product\", ",
            1,
        );
        let err = Catalog::parse(&json).err().unwrap_or_default();
        assert!(err.contains("no-such-product"), "{err}");
    }

    #[test]
    fn shipped_catalog_has_the_required_shape() {
        let cat = crate::tests::catalog();
        assert!(cat.products.len() >= 10);
        assert_eq!(cat.categories.len(), 3);
        for c in &cat.categories {
            let n = cat.products_in(&c.slug).count();
            assert!((3..=4).contains(&n), "{} has {n} products", c.slug);
        }
        assert!(cat.products.iter().any(|p| p.old_price.is_some()));
        for p in &cat.products {
            assert!((2..=3).contains(&p.related.len()), "{}", p.slug);
            assert!(!p.attributes.is_empty(), "{}", p.slug);
        }
    }
}
