//! Page templates. Every page type produces a [`View`]; [`layout`] wraps it into
//! the shared document (head, header, footer, scripts).

use serde_json::json;

use crate::catalog::{Catalog, Category, Lang, Product, L};
use crate::html::{esc, json_ld, price, schema_price, tel};

/// One generated document.
pub struct Page {
    /// Absolute URL path, always ending in `/` (e.g. `/en/product/x/`).
    pub path: String,
    pub html: String,
}

/// The embed snippet every page must end with.
pub const WIDGET_TAG: &str = r#"<script async src="/fw.js" data-site="demo"></script>"#;

/// The shop's own cart counter: keeps `{sku: quantity}` in localStorage 'krokha-cart'.
const CART_JS: &str = r#"(function () {
  var KEY = 'krokha-cart', count = document.getElementById('cart-count');
  function load() { try { return JSON.parse(localStorage.getItem(KEY)) || {}; } catch (e) { return {}; } }
  function render() { var c = load(), n = 0; for (var k in c) n += +c[k] || 0; count.textContent = n; }
  var btn = document.getElementById('add-to-cart');
  if (btn) btn.addEventListener('click', function () {
    var c = load(), label = btn.getAttribute('data-label') || btn.textContent;
    c[btn.dataset.sku] = (+c[btn.dataset.sku] || 0) + 1;
    try { localStorage.setItem(KEY, JSON.stringify(c)); } catch (e) {}
    render();
    btn.setAttribute('data-label', label);
    btn.textContent = btn.dataset.added;
    setTimeout(function () { btn.textContent = label; }, 1800);
  });
  window.addEventListener('storage', function (e) { if (e.key === KEY) render(); });
  render();
})();"#;

/// Gift guide tabs: a tiny single-page app on top of `history.pushState`.
const GUIDE_JS: &str = r#"(function () {
  var g = document.getElementById('guide'), sw = document.getElementById('lang-switch');
  var base = g.dataset.base, other = g.dataset.other, title = document.title;
  var tabs = [].slice.call(g.querySelectorAll('[role=tab]'));
  var panels = [].slice.call(g.querySelectorAll('[role=tabpanel]'));
  function fromUrl() {
    var s = location.pathname.slice(base.length).replace(/\/$/, '');
    return panels.some(function (p) { return p.dataset.tab === s; }) ? s : '';
  }
  function show(t) {
    var cur = t || panels[0].dataset.tab;
    tabs.forEach(function (a) { a.setAttribute('aria-selected', a.dataset.tab === cur ? 'true' : 'false'); });
    panels.forEach(function (p) {
      p.hidden = p.dataset.tab !== cur;
      if (!p.hidden) document.title = t ? p.dataset.title : title;
    });
    if (sw) sw.href = other + t;
  }
  tabs.forEach(function (a) {
    a.addEventListener('click', function (e) {
      if (e.button || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      e.preventDefault();
      if (a.dataset.tab !== fromUrl()) history.pushState({ tab: a.dataset.tab }, '', base + a.dataset.tab);
      show(a.dataset.tab);
    });
  });
  window.addEventListener('popstate', function () { show(fromUrl()); });
  show(fromUrl());
})();"#;

const CART_ICON: &str = r#"<svg class="cart-icon" viewBox="0 0 24 24" width="22" height="22" aria-hidden="true"><path d="M6 7h12l-1 13H7L6 7Z" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round"/><path d="M9 9V6a3 3 0 0 1 6 0v3" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"/></svg>"#;

/// What a page type contributes to the shared layout.
struct View {
    /// Language-neutral path, e.g. `/product/x/`.
    path: String,
    /// Plain text; escaped by the layout.
    title: String,
    description: String,
    /// Language-neutral path of the highlighted navigation item.
    nav: String,
    /// Extra markup for `<head>`.
    head: String,
    /// Page body markup.
    main: String,
    /// Extra inline script of the page, if any.
    script: &'static str,
}

/// Rendering context: the catalog plus the page language.
struct Cx<'a> {
    cat: &'a Catalog,
    lang: Lang,
}

impl Cx<'_> {
    /// Escaped copy in the page language.
    fn t(&self, text: &L) -> String {
        esc(text.get(self.lang))
    }

    /// Escaped URL of a language-neutral path.
    fn url(&self, path: &str) -> String {
        esc(&self.lang.url(path))
    }

    fn page_title(&self, title: &str) -> String {
        format!("{title} — {}", self.cat.shop.name.get(self.lang))
    }
}

fn category_path(slug: &str) -> String {
    format!("/catalog/{slug}/")
}

fn product_path(slug: &str) -> String {
    format!("/product/{slug}/")
}

fn image_path(slug: &str) -> String {
    format!("/img/{slug}.svg")
}

/// Generates every page of the site in both languages.
pub fn build_site(cat: &Catalog) -> Vec<Page> {
    let mut pages = Vec::new();
    for lang in Lang::ALL {
        let cx = Cx { cat, lang };
        let mut views = vec![home(&cx), guide(&cx), about(&cx)];
        views.extend(cat.categories.iter().map(|c| category(&cx, c)));
        views.extend(cat.products.iter().map(|p| product(&cx, p)));
        pages.extend(views.iter().map(|v| Page {
            path: lang.url(&v.path),
            html: layout(&cx, v),
        }));
    }
    pages
}

fn layout(cx: &Cx<'_>, v: &View) -> String {
    let (cat, lang, ui) = (cx.cat, cx.lang, &cx.cat.ui);
    let other = lang.other();
    let links: Vec<(String, &L)> = cat
        .categories
        .iter()
        .map(|c| (category_path(&c.slug), &c.name))
        .chain([
            ("/guide/".to_owned(), &ui.nav_guide),
            ("/about/".to_owned(), &ui.nav_about),
        ])
        .collect();
    let nav: String = links
        .iter()
        .map(|(path, label)| {
            let active = if *path == v.nav {
                r#" class="is-active""#
            } else {
                ""
            };
            format!(r#"<a href="{}"{active}>{}</a>"#, cx.url(path), cx.t(label))
        })
        .collect();
    let footer_links = |range: std::ops::Range<usize>| -> String {
        links[range]
            .iter()
            .map(|(path, label)| {
                format!(r#"<li><a href="{}">{}</a></li>"#, cx.url(path), cx.t(label))
            })
            .collect()
    };
    let n_cat = cat.categories.len();
    let shop = cx.t(&cat.shop.name);
    let logo = format!(
        r#"<a class="logo" href="{home}"><img src="/img/logo.svg" alt="" width="44" height="44"><span class="logo-text">{shop}<small>{tagline}</small></span></a>"#,
        home = cx.url("/"),
        tagline = cx.t(&cat.shop.tagline),
    );
    let script = if v.script.is_empty() {
        String::new()
    } else {
        format!("<script>\n{}\n</script>\n", v.script)
    };
    format!(
        r##"<!doctype html>
<html lang="{code}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<meta name="description" content="{description}">
<meta name="theme-color" content="#0f766e">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/css/shop.css">
<link rel="alternate" hreflang="ru" href="{ru_url}">
<link rel="alternate" hreflang="en" href="{en_url}">
{head}</head>
<body>
<header class="site-header">
<div class="wrap header-bar">
{logo}
<div class="header-actions">
<a class="lang-switch" id="lang-switch" href="{other_url}" hreflang="{other_code}" lang="{other_code}" title="{other_name}">{other_short}</a>
<span class="cart" title="{cart}">{CART_ICON}<span class="cart-label">{cart}</span> <span id="cart-count">0</span></span>
</div>
</div>
<nav class="main-nav" aria-label="{catalog}"><div class="wrap">{nav}</div></nav>
</header>
<main id="main" class="wrap">
{main}
</main>
<footer class="site-footer">
<div class="wrap footer-grid">
<div class="footer-brand">{logo}<p>{footer_note}</p></div>
<div><h2>{catalog}</h2><ul>{footer_catalog}</ul></div>
<div><h2>{customers}</h2><ul>{footer_customers}</ul></div>
<div><h2>{contacts}</h2><p><a class="phone" href="{tel}">{phone}</a><br>{hours}<br>{address}</p></div>
</div>
<div class="wrap"><p class="footer-bottom">© {shop}</p></div>
</footer>
<script>
{CART_JS}
</script>
{script}{WIDGET_TAG}
</body>
</html>
"##,
        code = lang.code(),
        title = esc(&v.title),
        description = esc(&v.description),
        ru_url = esc(&Lang::Ru.url(&v.path)),
        en_url = esc(&Lang::En.url(&v.path)),
        head = v.head,
        other_url = esc(&other.url(&v.path)),
        other_code = other.code(),
        other_name = esc(ui.lang_name.get(other)),
        other_short = other.code().to_uppercase(),
        cart = cx.t(&ui.cart),
        catalog = cx.t(&ui.catalog_heading),
        main = v.main,
        footer_note = cx.t(&ui.footer_note),
        footer_catalog = footer_links(0..n_cat),
        customers = cx.t(&ui.customers_heading),
        footer_customers = footer_links(n_cat..links.len()),
        contacts = cx.t(&ui.contacts_heading),
        tel = esc(&tel(&cat.shop.phone)),
        phone = esc(&cat.shop.phone),
        hours = cx.t(&cat.shop.hours),
        address = cx.t(&cat.shop.address),
    )
}

/// Breadcrumb trail: home, the given intermediate links, then the current page.
fn crumbs(cx: &Cx<'_>, trail: &[(String, &str)], current: &str) -> String {
    let links: String = [("/".to_owned(), cx.cat.ui.nav_home.get(cx.lang))]
        .iter()
        .chain(trail)
        .map(|(path, label)| {
            format!(
                r#"<a href="{}">{}</a><span aria-hidden="true">›</span>"#,
                cx.url(path),
                esc(label)
            )
        })
        .collect();
    format!(
        r#"<nav class="crumbs" aria-label="{}">{links}<span aria-current="page">{}</span></nav>"#,
        cx.t(&cx.cat.ui.nav_home),
        esc(current)
    )
}

fn discount_badge(p: &Product) -> String {
    p.old_price
        .map(|old| {
            let pct =
                ((u64::from(old - p.price) * 100 + u64::from(old) / 2) / u64::from(old)).max(1);
            format!(r#"<span class="badge">−{pct}%</span>"#)
        })
        .unwrap_or_default()
}

fn price_html(p: &Product) -> String {
    let old = p
        .old_price
        .map(|old| format!(r#" <s class="old-price">{}</s>"#, esc(&price(old))))
        .unwrap_or_default();
    format!(
        r#"<span class="price">{}</span>{old}"#,
        esc(&price(p.price))
    )
}

/// Product tile used by every grid; `h` is the heading level of the product name.
fn card(cx: &Cx<'_>, p: &Product, h: u8) -> String {
    format!(
        r#"<a class="card" href="{url}"><span class="card-img"><img src="{img}" alt="" width="400" height="300" loading="lazy">{badge}</span><span class="card-body"><span class="card-brand">{brand}</span><h{h} class="card-name">{name}</h{h}><span class="card-price">{price}</span></span></a>"#,
        url = cx.url(&product_path(&p.slug)),
        img = esc(&image_path(&p.slug)),
        badge = discount_badge(p),
        brand = esc(&p.brand),
        name = cx.t(&p.name),
        price = price_html(p),
    )
}

fn grid<'a>(cx: &Cx<'_>, products: impl Iterator<Item = &'a Product>, h: u8) -> String {
    let cards: String = products.map(|p| card(cx, p, h)).collect();
    format!(r#"<div class="grid">{cards}</div>"#)
}

fn home(cx: &Cx<'_>) -> View {
    let (cat, ui) = (cx.cat, &cx.cat.ui);
    let first_category = cat
        .categories
        .first()
        .map(|c| category_path(&c.slug))
        .unwrap_or_default();
    let benefits: String = ui
        .benefits
        .iter()
        .map(|b| {
            format!(
                "<li><strong>{}</strong> {}</li>",
                cx.t(&b.title),
                cx.t(&b.text)
            )
        })
        .collect();
    let tiles: String = cat
        .categories
        .iter()
        .map(|c| {
            format!(
                r#"<a class="tile" href="{}"><img src="{}" alt="" width="400" height="300" loading="lazy"><span class="tile-body"><h3>{}</h3><span>{}</span></span></a>"#,
                cx.url(&category_path(&c.slug)),
                esc(&image_path(&c.cover)),
                cx.t(&c.name),
                cx.t(&c.teaser),
            )
        })
        .collect();
    let main = format!(
        r#"<section class="hero">
<div class="hero-text">
<p class="eyebrow">{tagline}</p>
<h1>{hero_title}</h1>
<p class="lead">{hero_text}</p>
<p class="hero-actions"><a class="btn btn-primary" href="{catalog_url}">{cta}</a> <a class="btn btn-ghost" href="{guide_url}">{cta_guide}</a></p>
</div>
<div class="hero-art"><img src="/img/hero.svg" alt="" width="400" height="300"></div>
</section>
<ul class="benefits">{benefits}</ul>
<section class="block"><h2>{categories_heading}</h2><div class="tiles">{tiles}</div></section>
<section class="block"><h2>{featured_heading}</h2>{featured}</section>
<section class="promo"><div><h2>{promo_title}</h2><p>{promo_text}</p></div><a class="btn btn-light" href="{guide_url}">{cta_guide}</a></section>"#,
        tagline = cx.t(&cat.shop.tagline),
        hero_title = cx.t(&ui.hero_title),
        hero_text = cx.t(&ui.hero_text),
        catalog_url = cx.url(&first_category),
        cta = cx.t(&ui.hero_cta),
        guide_url = cx.url("/guide/"),
        cta_guide = cx.t(&ui.hero_cta_guide),
        categories_heading = cx.t(&ui.categories_heading),
        featured_heading = cx.t(&ui.featured_heading),
        featured = grid(cx, cat.products.iter().filter(|p| p.featured), 3),
        promo_title = cx.t(&ui.guide_promo_title),
        promo_text = cx.t(&ui.guide_promo_text),
    );
    View {
        path: "/".into(),
        title: ui.home_title.get(cx.lang).into(),
        description: ui.home_description.get(cx.lang).into(),
        nav: String::new(),
        head: String::new(),
        main,
        script: "",
    }
}

fn category(cx: &Cx<'_>, c: &Category) -> View {
    let name = c.name.get(cx.lang);
    let main = format!(
        r#"{crumbs}
<header class="page-head"><h1>{h1}</h1><p class="lead">{description}</p></header>
{grid}"#,
        crumbs = crumbs(cx, &[], name),
        h1 = esc(name),
        description = cx.t(&c.description),
        grid = grid(cx, cx.cat.products_in(&c.slug), 2),
    );
    View {
        path: category_path(&c.slug),
        title: cx.page_title(name),
        description: c.description.get(cx.lang).into(),
        nav: category_path(&c.slug),
        head: String::new(),
        main,
        script: "",
    }
}

/// schema.org `Product` description of a product page.
fn product_json_ld(cx: &Cx<'_>, p: &Product) -> serde_json::Value {
    let url = cx.lang.url(&product_path(&p.slug));
    let category = cx
        .cat
        .category(&p.category)
        .map(|c| c.name.get(cx.lang))
        .unwrap_or_default();
    // The specs table as schema.org `additionalProperty`, so a reader without a browser (the
    // comparison email) gets the same attributes the page shows.
    let properties: Vec<serde_json::Value> = p
        .attributes
        .iter()
        .map(|a| {
            let name = cx.cat.attributes.get(&a.key).map(|l| l.get(cx.lang)).unwrap_or(&a.key);
            json!({ "@type": "PropertyValue", "name": name, "value": a.value.get(cx.lang) })
        })
        .collect();
    json!({
        "@context": "https://schema.org",
        "@type": "Product",
        "additionalProperty": properties,
        "name": p.name.get(cx.lang),
        "sku": p.sku,
        "image": image_path(&p.slug),
        "url": url,
        "description": p.description.get(cx.lang),
        "brand": { "@type": "Brand", "name": p.brand },
        "category": category,
        "audience": {
            "@type": "PeopleAudience",
            "suggestedMinAge": f64::from(p.age_months[0]) / 12.0,
            "suggestedMaxAge": f64::from(p.age_months[1]) / 12.0,
        },
        "offers": {
            "@type": "Offer",
            "price": schema_price(p.price),
            "priceCurrency": "RUB",
            "availability": "https://schema.org/InStock",
            "url": url,
        },
    })
}

fn product(cx: &Cx<'_>, p: &Product) -> View {
    let (cat, ui) = (cx.cat, &cx.cat.ui);
    let name = p.name.get(cx.lang);
    let trail: Vec<(String, &str)> = cat
        .category(&p.category)
        .map(|c| (category_path(&c.slug), c.name.get(cx.lang)))
        .into_iter()
        .collect();
    let specs: String = p
        .attributes
        .iter()
        .map(|a| {
            let label = cat
                .attributes
                .get(&a.key)
                .map(|l| l.get(cx.lang))
                .unwrap_or(&a.key);
            format!(
                r#"<tr><th scope="row">{}</th><td>{}</td></tr>"#,
                esc(label),
                cx.t(&a.value)
            )
        })
        .collect();
    let perks: String = ui
        .perks
        .iter()
        .map(|perk| format!("<li>{}</li>", cx.t(perk)))
        .collect();
    let main = format!(
        r#"{crumbs}
<article class="product">
<div class="product-media"><img src="{img}" alt="{name}" width="400" height="300"></div>
<div class="product-info">
<p class="product-brand">{brand}</p>
<h1>{name}</h1>
<p class="product-sku">{sku_label}: {sku}</p>
<p class="product-price">{price} {badge}</p>
<p class="stock">{in_stock}</p>
<button id="add-to-cart" class="btn btn-primary btn-lg" type="button" data-sku="{sku}" data-added="{added}">{add}</button>
<ul class="perks">{perks}</ul>
</div>
</article>
<div class="product-details">
<section class="panel"><h2>{description_heading}</h2><p>{description}</p></section>
<section class="panel"><h2>{specs_heading}</h2><table class="specs"><tbody>{specs}</tbody></table></section>
</div>
<section class="block"><h2>{related_heading}</h2>{related}</section>"#,
        crumbs = crumbs(cx, &trail, name),
        img = esc(&image_path(&p.slug)),
        name = esc(name),
        brand = esc(&p.brand),
        sku_label = cx.t(&ui.sku),
        sku = esc(&p.sku),
        price = price_html(p),
        badge = discount_badge(p),
        in_stock = cx.t(&ui.in_stock),
        added = cx.t(&ui.added_to_cart),
        add = cx.t(&ui.add_to_cart),
        description_heading = cx.t(&ui.description_heading),
        description = cx.t(&p.description),
        specs_heading = cx.t(&ui.specs_heading),
        related_heading = cx.t(&ui.related_heading),
        related = grid(cx, cat.products_by_slug(&p.related), 3),
    );
    View {
        path: product_path(&p.slug),
        title: cx.page_title(name),
        description: p.description.get(cx.lang).into(),
        nav: category_path(&p.category),
        head: format!("{}\n", json_ld(&product_json_ld(cx, p))),
        main,
        script: "",
    }
}

fn guide(cx: &Cx<'_>) -> View {
    let (cat, ui) = (cx.cat, &cx.cat.ui);
    let base = cx.lang.url("/guide/");
    let tabs: String = cat
        .guide
        .iter()
        .enumerate()
        .map(|(i, tab)| {
            format!(
                r#"<a role="tab" id="tab-{slug}" href="{href}" data-tab="{slug}" aria-controls="panel-{slug}" aria-selected="{selected}">{title}</a>"#,
                slug = esc(&tab.slug),
                href = esc(&format!("{base}{}", tab.slug)),
                selected = i == 0,
                title = cx.t(&tab.title),
            )
        })
        .collect();
    let panels: String = cat
        .guide
        .iter()
        .enumerate()
        .map(|(i, tab)| {
            let title = format!("{} · {}", tab.title.get(cx.lang), ui.guide_title.get(cx.lang));
            format!(
                r#"<section role="tabpanel" id="panel-{slug}" data-tab="{slug}" data-title="{page_title}" aria-labelledby="tab-{slug}"{hidden}><h2>{title}</h2><p class="lead">{intro}</p>{grid}</section>"#,
                slug = esc(&tab.slug),
                page_title = esc(&cx.page_title(&title)),
                hidden = if i == 0 { "" } else { " hidden" },
                title = cx.t(&tab.title),
                intro = cx.t(&tab.intro),
                grid = grid(cx, cat.products_by_slug(&tab.products), 3),
            )
        })
        .collect();
    let main = format!(
        r#"{crumbs}
<header class="page-head"><h1>{h1}</h1><p class="lead">{intro}</p></header>
<div class="guide" id="guide" data-base="{base}" data-other="{other}">
<div class="tabs" role="tablist">{tabs}</div>
{panels}
</div>"#,
        crumbs = crumbs(cx, &[], ui.guide_title.get(cx.lang)),
        h1 = cx.t(&ui.guide_title),
        intro = cx.t(&ui.guide_intro),
        base = esc(&base),
        other = esc(&cx.lang.other().url("/guide/")),
    );
    View {
        path: "/guide/".into(),
        title: cx.page_title(ui.guide_title.get(cx.lang)),
        description: ui.guide_description.get(cx.lang).into(),
        nav: "/guide/".into(),
        head: String::new(),
        main,
        script: GUIDE_JS,
    }
}

fn about(cx: &Cx<'_>) -> View {
    let (cat, ui) = (cx.cat, &cx.cat.ui);
    let sections: String = cat
        .about
        .iter()
        .map(|s| {
            let paragraphs: String = s
                .paragraphs
                .iter()
                .map(|p| format!("<p>{}</p>", cx.t(p)))
                .collect();
            format!(
                r#"<section class="panel"><h2>{}</h2>{paragraphs}</section>"#,
                cx.t(&s.title)
            )
        })
        .collect();
    let main = format!(
        r#"{crumbs}
<header class="page-head"><h1>{h1}</h1><p class="lead">{intro}</p></header>
<div class="about">
<div class="about-sections">{sections}</div>
<aside class="panel contacts" id="contacts"><h2>{contacts}</h2><dl>
<dt>{phone_label}</dt><dd><a class="phone" href="{tel}">{phone}</a></dd>
<dt>{hours_label}</dt><dd>{hours}</dd>
<dt>{address_label}</dt><dd>{address}</dd>
</dl></aside>
</div>"#,
        crumbs = crumbs(cx, &[], ui.about_title.get(cx.lang)),
        h1 = cx.t(&ui.about_title),
        intro = cx.t(&ui.about_intro),
        contacts = cx.t(&ui.contacts_heading),
        phone_label = cx.t(&ui.phone_label),
        tel = esc(&tel(&cat.shop.phone)),
        phone = esc(&cat.shop.phone),
        hours_label = cx.t(&ui.hours_label),
        hours = cx.t(&cat.shop.hours),
        address_label = cx.t(&ui.address_label),
        address = cx.t(&cat.shop.address),
    );
    View {
        path: "/about/".into(),
        title: cx.page_title(ui.about_title.get(cx.lang)),
        description: ui.about_description.get(cx.lang).into(),
        nav: "/about/".into(),
        head: String::new(),
        main,
        script: "",
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use serde_json::Value;

    use super::*;
    use crate::tests::catalog;

    fn page<'a>(pages: &'a [Page], path: &str) -> &'a Page {
        match pages.iter().find(|p| p.path == path) {
            Some(p) => p,
            None => panic!("no page at {path}"),
        }
    }

    /// Contents of every `<script type="application/ld+json">` element.
    fn json_ld_blocks(html: &str) -> Vec<&str> {
        const OPEN: &str = r#"<script type="application/ld+json">"#;
        html.match_indices(OPEN)
            .filter_map(|(i, _)| {
                let rest = &html[i + OPEN.len()..];
                rest.find("</script>").map(|end| &rest[..end])
            })
            .collect()
    }

    /// Values of every `name="..."` attribute in the document.
    fn attr_values<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
        let pat = format!(" {name}=\"");
        html.match_indices(&pat)
            .filter_map(|(i, _)| {
                let rest = &html[i + pat.len()..];
                rest.find('"').map(|end| &rest[..end])
            })
            .collect()
    }

    fn between<'a>(html: &'a str, open: &str, close: &str) -> &'a str {
        html.split_once(open)
            .and_then(|(_, rest)| rest.split_once(close))
            .map(|(s, _)| s)
            .unwrap_or_default()
    }

    fn parse(json: &str) -> Value {
        serde_json::from_str(json).unwrap_or_else(|e| panic!("invalid JSON-LD ({e}): {json}"))
    }

    #[test]
    fn every_product_page_has_valid_product_json_ld() {
        let cat = catalog();
        let pages = build_site(&cat);
        for lang in Lang::ALL {
            for p in &cat.products {
                let url = lang.url(&format!("/product/{}/", p.slug));
                let html = &page(&pages, &url).html;
                let blocks = json_ld_blocks(html);
                assert_eq!(blocks.len(), 1, "{url}");
                assert!(!blocks[0].contains("</"), "{url}");
                let ld = parse(blocks[0]);
                let category = cat.category(&p.category).map(|c| c.name.get(lang));
                assert_eq!(ld["@context"], "https://schema.org");
                assert_eq!(ld["@type"], "Product");
                assert_eq!(ld["name"], p.name.get(lang));
                assert_eq!(ld["sku"], p.sku.as_str());
                assert_eq!(ld["image"], format!("/img/{}.svg", p.slug));
                assert_eq!(ld["url"], url.as_str());
                assert_eq!(ld["description"], p.description.get(lang));
                assert_eq!(ld["brand"]["@type"], "Brand");
                assert_eq!(ld["brand"]["name"], p.brand.as_str());
                assert_eq!(ld["category"].as_str(), category);
                let months = |key: &str| ld["audience"][key].as_f64().map(|years| (years * 12.0).round() as u16);
                assert_eq!(ld["audience"]["@type"], "PeopleAudience");
                assert_eq!([months("suggestedMinAge"), months("suggestedMaxAge")], p.age_months.map(Some), "{url}");
                let offer = &ld["offers"];
                assert_eq!(offer["@type"], "Offer");
                assert_eq!(offer["price"], format!("{}.00", p.price));
                assert_eq!(offer["priceCurrency"], "RUB");
                assert_eq!(offer["availability"], "https://schema.org/InStock");
                assert_eq!(offer["url"], url.as_str());
                let properties = ld["additionalProperty"].as_array().expect("the specs as additionalProperty");
                assert_eq!(properties.len(), p.attributes.len(), "{url}");
                for (property, attribute) in properties.iter().zip(&p.attributes) {
                    assert_eq!(property["@type"], "PropertyValue");
                    assert_eq!(property["value"], attribute.value.get(lang));
                    assert_eq!(property["name"], cat.attributes[&attribute.key].get(lang));
                }
                // The visible page agrees with the structured data.
                assert!(html.contains(&format!(
                    r#"<button id="add-to-cart" class="btn btn-primary btn-lg" type="button" data-sku="{}""#,
                    p.sku
                )));
                assert!(html.contains(&format!(r#"<span class="price">{}</span>"#, price(p.price))));
                for r in &p.related {
                    assert!(
                        html.contains(&format!(
                            r#"href="{}""#,
                            lang.url(&format!("/product/{r}/"))
                        )),
                        "{url} -> {r}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_page_shares_the_frame() {
        let cat = catalog();
        let pages = build_site(&cat);
        let paths: HashSet<&str> = pages.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths.len(), pages.len(), "duplicate page paths");
        assert_eq!(
            pages.len(),
            2 * (3 + cat.categories.len() + cat.products.len())
        );
        for p in &pages {
            let lang = if p.path.starts_with("/en/") {
                Lang::En
            } else {
                Lang::Ru
            };
            let html = &p.html;
            assert!(p.path.ends_with('/'), "{}", p.path);
            assert!(
                html.starts_with(&format!("<!doctype html>\n<html lang=\"{}\">", lang.code())),
                "{}",
                p.path
            );
            assert!(
                !between(html, "<title>", "</title>").trim().is_empty(),
                "{}",
                p.path
            );
            assert!(
                !between(html, "<meta name=\"description\" content=\"", "\"")
                    .trim()
                    .is_empty(),
                "{}",
                p.path
            );
            assert!(html.contains(
                r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#
            ));
            assert!(
                html.contains(r#"<span id="cart-count">0</span>"#),
                "{}",
                p.path
            );
            assert_eq!(html.matches("/fw.js").count(), 1, "{}", p.path);
            assert!(
                html.ends_with(&format!("{WIDGET_TAG}\n</body>\n</html>\n")),
                "{}",
                p.path
            );
            let switch = between(html, r#"id="lang-switch" href=""#, "\"");
            assert!(
                paths.contains(switch),
                "{}: language switch points to {switch:?}",
                p.path
            );
            fn neutral(path: &str) -> &str {
                path.strip_prefix("/en").unwrap_or(path)
            }
            assert!(
                switch != p.path && neutral(switch) == neutral(&p.path),
                "{}: switch to {switch}",
                p.path
            );
        }
    }

    #[test]
    fn links_stay_inside_the_site() {
        let cat = catalog();
        let pages = build_site(&cat);
        let paths: HashSet<&str> = pages.iter().map(|p| p.path.as_str()).collect();
        let static_dir = crate::source_dir().join("static");
        let guide_tabs: HashSet<String> = Lang::ALL
            .iter()
            .flat_map(|l| {
                cat.guide
                    .iter()
                    .map(move |t| l.url(&format!("/guide/{}", t.slug)))
            })
            .collect();
        for p in &pages {
            let html = &p.html;
            let urls = attr_values(html, "href")
                .into_iter()
                .chain(attr_values(html, "src"));
            for url in urls {
                let ok = if url.starts_with("tel:") {
                    true
                } else if let Some(file) = url.strip_prefix('/') {
                    paths.contains(url)
                        || guide_tabs.contains(url)
                        || url == "/fw.js"
                        || static_dir.join(file).is_file()
                } else {
                    false
                };
                assert!(ok, "{}: unexpected link {url:?}", p.path);
            }
            let external = html.replace("https://schema.org", "");
            assert!(
                !external.contains("http:")
                    && !external.contains("https:")
                    && !external.contains("//"),
                "{}",
                p.path
            );
        }
    }

    #[test]
    fn guide_renders_all_tabs_for_the_spa() {
        let cat = catalog();
        let pages = build_site(&cat);
        for lang in Lang::ALL {
            let html = &page(&pages, &lang.url("/guide/")).html;
            assert!(html.contains("history.pushState") && html.contains("popstate"));
            assert!(html.contains(&format!(r#"data-base="{}""#, lang.url("/guide/"))));
            for (i, tab) in cat.guide.iter().enumerate() {
                assert!(html.contains(&format!(
                    r#"href="{}""#,
                    lang.url(&format!("/guide/{}", tab.slug))
                )));
                let hidden = if i == 0 { "" } else { " hidden" };
                let open = format!(r#"aria-labelledby="tab-{}"{hidden}>"#, tab.slug);
                assert!(html.contains(&open), "{}", tab.slug);
                for s in &tab.products {
                    assert!(html.contains(&format!(
                        r#"href="{}""#,
                        lang.url(&format!("/product/{s}/"))
                    )));
                }
            }
        }
    }

    #[test]
    fn catalog_text_is_escaped_everywhere() {
        let mut cat = catalog();
        let evil = r#"<b>Tom & "Jerry"</b></script>"#;
        cat.products[0].name.ru = evil.into();
        cat.products[0].description.ru = evil.into();
        cat.products[0].brand = evil.into();
        cat.shop.name.ru = evil.into();
        let pages = build_site(&cat);
        for p in &pages {
            // Inside JSON-LD only `</` is dangerous (checked below); everywhere else no raw markup.
            let outside_json_ld = json_ld_blocks(&p.html)
                .iter()
                .fold(p.html.clone(), |html, b| html.replace(b, ""));
            assert!(!outside_json_ld.contains("<b>"), "{}", p.path);
            assert!(!p.html.contains("</b>"), "{}", p.path);
        }
        let html = &page(&pages, &format!("/product/{}/", cat.products[0].slug)).html;
        assert!(html.contains("&lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt;"));
        let ld = parse(json_ld_blocks(html)[0]);
        assert_eq!(ld["name"], evil);
        assert_eq!(ld["brand"]["name"], evil);
    }

    #[test]
    fn static_assets_are_self_contained() {
        let cat = catalog();
        let dir = crate::source_dir().join("static");
        let read = |rel: &str| {
            std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
        };
        let css = read("css/shop.css");
        assert!(!css.contains("http") && !css.contains("@import") && !css.contains("url("));
        for name in ["logo", "hero"]
            .iter()
            .map(|s| s.to_string())
            .chain(cat.products.iter().map(|p| p.slug.clone()))
        {
            let svg = read(&format!("img/{name}.svg"));
            assert!(
                svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
                "{name}"
            );
            assert!(
                !svg.replace("http://www.w3.org/2000/svg", "")
                    .contains("http"),
                "{name}"
            );
        }
        for p in &cat.products {
            let svg = read(&format!("img/{}.svg", p.slug));
            assert!(svg.contains(r#"viewBox="0 0 400 300""#), "{}", p.slug);
            assert!(
                (600..=4000).contains(&svg.len()),
                "{}: {} bytes",
                p.slug,
                svg.len()
            );
        }
        read("favicon.svg");
    }
}
