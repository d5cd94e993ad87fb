//! Per-language analysis, seen through search on the fixture knowledge base: a word typed
//! in another inflection, or without its accents, still finds the article that has it.
//! Each query word below differs from the article's word by at least two edits, so only
//! stemming and accent folding (not typo tolerance) can connect them.

use crate::common::{TestKb, assert_first, hits, ids, request};
use ponte::knowledge::DocKind;
use ponte::lang::Language::{En, Es, PtBr};

#[test]
fn portuguese_plural_singular_and_verb_forms() {
    let fixture = TestKb::fixture();
    let kb = &fixture.kb;
    // Title "Configuração do e-mail no celular": the plural finds the singular.
    assert_first(kb, "configurações", Some(PtBr), "kb-email.pt-BR");
    // Title "Permissões de acesso às pastas compartilhadas": the singular finds the plural.
    assert_first(kb, "permissão", Some(PtBr), "kb-permissions.pt-BR");
    assert_first(
        kb,
        "pasta compartilhada",
        Some(PtBr),
        "kb-permissions.pt-BR",
    );
    // Title "Instalar impressoras de rede": a gerund finds the infinitive.
    assert_first(kb, "instalando", Some(PtBr), "kb-printer.pt-BR");
    // Title "Conectar-se à VPN da empresa": a past tense finds the infinitive.
    assert_first(kb, "conectei", Some(PtBr), "kb-vpn.pt-BR");
}

#[test]
fn portuguese_accents_are_optional() {
    let fixture = TestKb::fixture();
    let kb = &fixture.kb;
    for text in [
        "configuração",
        "configuracao",
        "CONFIGURACAO",
        "configuracoes",
    ] {
        assert_first(kb, text, Some(PtBr), "kb-email.pt-BR");
        assert_first(kb, text, None, "kb-email.pt-BR");
    }
    for text in ["permissões", "permissoes", "permissao"] {
        assert_first(kb, text, Some(PtBr), "kb-permissions.pt-BR");
    }
}

#[test]
fn spanish_inflections_and_accents() {
    let fixture = TestKb::fixture();
    let kb = &fixture.kb;
    // Title "Restablecer la contraseña olvidada".
    for text in ["contraseña", "contrasena", "contraseñas", "CONTRASENAS"] {
        assert_first(kb, text, Some(Es), "kb-password.es");
        assert_first(kb, text, None, "kb-password.es");
    }
    assert_first(kb, "restableciendo", Some(Es), "kb-password.es");
    // Title "Instalar una impresora de red": the noun finds the verb, accent or not.
    assert_first(kb, "instalación", Some(Es), "kb-printer.es");
    assert_first(kb, "instalaciones", Some(Es), "kb-printer.es");
    // Title "Conexión a la red inalámbrica de la oficina".
    for text in ["conexiones", "conexion", "inalambricas"] {
        assert_first(kb, text, Some(Es), "kb-wifi.es");
    }
    // Title "Buzones compartidos del equipo": the singular finds the plural.
    assert_first(kb, "buzón", Some(Es), "kb-mailbox.es");
    assert_first(kb, "buzon compartido", Some(Es), "kb-mailbox.es");
}

#[test]
fn english_plural_singular_and_verb_forms() {
    let fixture = TestKb::fixture();
    let kb = &fixture.kb;
    // Title "Connecting printers to your laptop".
    assert_first(kb, "connected", Some(En), "kb-printer.en");
    assert_first(kb, "connection", Some(En), "kb-printer.en");
    // Title "Shared mailbox permissions".
    assert_first(kb, "mailboxes", Some(En), "kb-mailbox.en");
    assert_first(kb, "sharing", Some(En), "kb-mailbox.en");
    // Title "Reset a forgotten password".
    assert_first(kb, "resetting passwords", Some(En), "kb-password.en");
}

#[test]
fn a_word_no_article_has_finds_nothing() {
    // The control for the tests above: the fixture does not match everything.
    let fixture = TestKb::fixture();
    assert_eq!(
        ids(&fixture.kb, "quarentena", Some(PtBr)),
        Vec::<String>::new()
    );
    assert_eq!(ids(&fixture.kb, "zebra", None), Vec::<String>::new());
}

#[test]
fn the_requesters_language_comes_first() {
    // The same topic exists in the three languages; the stated language decides.
    let fixture = TestKb::fixture();
    let kb = &fixture.kb;
    assert_first(kb, "impressora de rede", Some(PtBr), "kb-printer.pt-BR");
    assert_first(kb, "impresora de red", Some(Es), "kb-printer.es");
    assert_first(kb, "printer", Some(En), "kb-printer.en");
    // Bundled: "VPN" is in two article titles in every language.
    let bundled = TestKb::bundled();
    for (language, suffix) in [(PtBr, ".pt-BR"), (Es, ".es"), (En, ".en")] {
        let mut articles = request("vpn", Some(language), &[]);
        articles.kind = Some(DocKind::Article);
        let found: Vec<String> = hits(&bundled.kb, &articles)
            .into_iter()
            .map(|hit| hit.id)
            .collect();
        assert!(
            found[0].ends_with(suffix) && found[1].ends_with(suffix),
            "{language:?}: {found:?}"
        );
    }
}
