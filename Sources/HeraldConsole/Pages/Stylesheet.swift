import Crypto
import Foundation

/// The console's one stylesheet, served at a path carrying a hash of its content, so browsers may keep it
/// for a year and a new version is a new URL.
public enum Stylesheet {
    public static let path = "/static/console-\(hash).css"
    public static let hash = SHA256.hash(data: Data(text.utf8)).prefix(6).map { String(format: "%02x", $0) }.joined()

    public static let text = """
        :root { --fg: #1d2330; --muted: #5b6473; --line: #d9dde4; --bg: #fff; --soft: #f4f6f9; --accent: #2456c9;
          --bad: #b3261e; --good: #1e7b3a; --warn: #8a5a00; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
        * { box-sizing: border-box; }
        body { margin: 0; color: var(--fg); background: var(--bg); line-height: 1.45; font-size: 15px; }
        a { color: var(--accent); }
        .top { display: flex; flex-wrap: wrap; gap: .5rem 1.25rem; align-items: center; padding: .6rem 1rem;
          border-bottom: 1px solid var(--line); background: var(--soft); }
        .brand { font-weight: 700; text-decoration: none; color: var(--fg); }
        .top nav { display: flex; gap: 1rem; }
        .top nav a[aria-current] { font-weight: 700; text-decoration: none; color: var(--fg); }
        .who { margin-left: auto; display: flex; gap: .5rem; align-items: center; }
        main { padding: 1rem; max-width: 72rem; margin: 0 auto; }
        h1 { font-size: 1.4rem; margin: .25rem 0; overflow-wrap: anywhere; }
        h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
        h3 { font-size: 1rem; margin: 1rem 0 .3rem; overflow-wrap: anywhere; }
        .mono, code, pre { font-family: ui-monospace, "SF Mono", Menlo, Consolas, monospace; font-size: .9em; }
        pre { background: var(--soft); padding: .5rem; overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; margin: .25rem 0; }
        .crumbs, .meta, .culprit, small { color: var(--muted); }
        .level { display: inline-block; font-size: .75rem; text-transform: uppercase; padding: .05rem .4rem; border-radius: .25rem;
          background: var(--soft); border: 1px solid var(--line); vertical-align: middle; }
        .level-error, .level-fatal { background: #fde8e6; border-color: #f3b7b1; color: var(--bad); }
        .level-warning { background: #fff3d6; border-color: #f0d48a; color: var(--warn); }
        .state-resolved strong { color: var(--good); }
        .state-ignored strong { color: var(--muted); }
        .actions { display: flex; flex-wrap: wrap; gap: .5rem 1rem; margin: .75rem 0; padding: .6rem; background: var(--soft);
          border: 1px solid var(--line); border-radius: .4rem; }
        form.inline { display: inline-flex; flex-wrap: wrap; gap: .35rem; align-items: center; margin: 0; }
        button, .button, select, input, textarea { font: inherit; padding: .35rem .7rem; border: 1px solid var(--line);
          border-radius: .3rem; background: #fff; color: var(--fg); min-height: 2.25rem; }
        button, .button { cursor: pointer; text-decoration: none; display: inline-block; }
        button.primary, .button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
        button.link { border: 0; background: none; color: var(--accent); padding: 0; min-height: 0; text-decoration: underline; }
        button:focus-visible, a:focus-visible, select:focus-visible, input:focus-visible { outline: 3px solid #8fb0ff; outline-offset: 1px; }
        .facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(8.5rem, 1fr)); gap: .5rem; margin: 1rem 0; }
        .facts div { background: var(--soft); padding: .4rem .6rem; border-radius: .3rem; }
        .facts dt { font-size: .8rem; color: var(--muted); } .facts dd { margin: 0; overflow-wrap: anywhere; }
        .chip { display: inline-block; background: #fff; border: 1px solid var(--line); border-radius: 1rem; padding: 0 .5rem; font-size: .85rem; }
        .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); gap: 1rem; }
        .charts figure { margin: 0; } .charts svg { width: 100%; height: 5rem; background: var(--soft); }
        .charts rect { fill: var(--accent); } .charts figcaption { font-size: .85rem; color: var(--muted); }
        .axis { display: flex; justify-content: space-between; font-size: .75rem; color: var(--muted); margin: 0; }
        .firing { border: 1px solid var(--line); border-radius: .3rem; padding: .4rem .6rem; margin: .4rem 0; }
        .trace { font-family: ui-monospace, Menlo, monospace; font-size: .85rem; overflow-wrap: anywhere; }
        .match { color: var(--good); } .miss { color: var(--bad); }
        .frames { padding-left: 1.5rem; margin: .3rem 0; } .frame { margin: .2rem 0; overflow-wrap: anywhere; }
        .frame.in-app .mono { font-weight: 600; } .where { color: var(--muted); font-size: .85rem; }
        table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line);
          vertical-align: top; overflow-wrap: anywhere; }
        .kv th { width: 12rem; color: var(--muted); font-weight: normal; }
        .list { width: 100%; }
        .status { font-size: .8rem; padding: 0 .35rem; border-radius: .25rem; background: var(--soft); }
        .status-delivered { color: var(--good); } .status-failed, .status-dead { color: var(--bad); } .problem { color: var(--bad); }
        .tag-groups { display: grid; grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr)); gap: .75rem; }
        .tag-group ul { list-style: none; padding: 0; margin: 0; } .tag-group li { padding: .1rem 0; font-size: .9rem; }
        .tag-group meter { display: block; width: 100%; height: .4rem; }
        .tag-value { overflow-wrap: anywhere; } .count { color: var(--muted); font-size: .8rem; }
        .filters { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin: .75rem 0; }
        .filters label { display: flex; flex-direction: column; font-size: .8rem; color: var(--muted); }
        .filters .grow { flex: 1 1 12rem; }
        .explain { display: flex; flex-direction: column; gap: .35rem; max-width: 48rem; }
        .flash { background: #e7f4ea; border: 1px solid #b6dcbf; padding: .5rem .75rem; border-radius: .3rem; }
        .notice { max-width: 36rem; margin: 2rem auto; }
        .sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
        @media (max-width: 40rem) { .who { margin-left: 0; } main { padding: .6rem; } .kv th { width: auto; }
          .list { display: block; overflow-x: auto; } }
        """
}
