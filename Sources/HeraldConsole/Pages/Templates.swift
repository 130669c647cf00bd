/// The console's pages as Mustache templates (swift-mustache, from the Hummingbird project): `{{x}}` is always
/// HTML-escaped, and no template uses the unescaped forms, so nothing a client sent can become markup. They
/// live in the binary, so an installed `herald` needs no template directory.
///
/// Every page fills `layout`: the document, the navigation and the signed-in person with the sign-out form.
enum Templates {
    static let all: [String: String] = [
        "layout": layout, "issue": issue, "issues": issues, "rules": rules, "deliveries": deliveries,
        "sign-in": signIn, "sign-in-link": signInLink, "notice": notice, "explanation": explanation,
    ]

    static let layout = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · Herald</title>
        <link rel="stylesheet" href="{{stylesheet}}">
        </head>
        <body>
        <header class="top">
          <a class="brand" href="/issues">Herald</a>
          {{#viewer}}
          <nav aria-label="Console">
            <a href="/issues"{{#nav.issues}} aria-current="page"{{/nav.issues}}>Issues</a>
            <a href="/rules"{{#nav.rules}} aria-current="page"{{/nav.rules}}>Rules</a>
            <a href="/deliveries"{{#nav.deliveries}} aria-current="page"{{/nav.deliveries}}>Deliveries</a>
          </nav>
          <form class="who" method="post" action="/logout">
            <span>{{name}} <small>({{role}})</small></span>
            <input type="hidden" name="csrf" value="{{csrf}}">
            <button type="submit" class="link">Sign out</button>
          </form>
          {{/viewer}}
        </header>
        <main id="main">
        {{#flash}}<p class="flash" role="status">{{.}}</p>{{/flash}}
        {{$body}}{{/body}}
        </main>
        </body>
        </html>
        """

    static let notice = """
        {{<layout}}{{$body}}
        <section class="notice">
          <h1>{{title}}</h1>
          {{#paragraphs}}<p>{{.}}</p>{{/paragraphs}}
          {{#link}}<p><a href="{{href}}">{{label}}</a></p>{{/link}}
        </section>
        {{/body}}{{/layout}}
        """

    static let signIn = """
        {{<layout}}{{$body}}
        <section class="notice">
          <h1>Sign in to Herald</h1>
          {{#problem}}<p class="problem" role="alert">{{.}}</p>{{/problem}}
          {{#oidc}}
          <p><a class="button primary" href="/login/oidc?next={{nextEncoded}}">Sign in with {{name}}</a></p>
          {{/oidc}}
          <h2>Or with a one-time link</h2>
          <p>Type <code>/herald login</code> in Slack or Mattermost: Herald answers, only to you, with a link that
          signs you in once, within {{linkMinutes}} minutes.</p>
          <p>An admin on the server can print one: <code>herald login-link --email you@example.com</code>.</p>
        </section>
        {{/body}}{{/layout}}
        """

    static let signInLink = """
        {{<layout}}{{$body}}
        <section class="notice">
          <h1>Sign in as {{email}}</h1>
          <p>This link signs you in once. It is good until {{expires}}.</p>
          <form method="post" action="/login/link">
            <input type="hidden" name="token" value="{{token}}">
            <input type="hidden" name="next" value="{{next}}">
            <button type="submit" class="primary">Continue as {{email}}</button>
          </form>
        </section>
        {{/body}}{{/layout}}
        """

    static let explanation = """
        <table class="verdicts">
          <thead><tr><th scope="col">Rule</th><th scope="col">Verdict</th><th scope="col">Why</th></tr></thead>
          <tbody>
          {{#rules}}
          <tr class="{{#matched}}match{{/matched}}{{^matched}}miss{{/matched}}">
            <td>{{name}}<br><small class="loc">{{location}}</small></td>
            <td>{{#matched}}matches{{/matched}}{{^matched}}no match{{/matched}}</td>
            <td class="trace">{{reason}}</td>
          </tr>
          {{/rules}}
          {{^rules}}<tr><td colspan="3">The project has no rules.</td></tr>{{/rules}}
          </tbody>
        </table>
        {{#hasDeliveries}}<h4>It would go to</h4>
        <ul>{{#deliveries}}<li>{{.}}</li>{{/deliveries}}</ul>{{/hasDeliveries}}
        """

    static let issue = """
        {{<layout}}{{$body}}
        <article class="issue">
          <header class="issue-head">
            <p class="crumbs"><a href="/issues?project={{issue.project}}">{{issue.project}}</a> · <span class="mono">{{issue.shortID}}</span></p>
            <h1><span class="level level-{{issue.level}}">{{issue.level}}</span> {{issue.title}}</h1>
            {{#issue.culprit}}<p class="culprit mono">{{.}}</p>{{/issue.culprit}}
            <p class="state state-{{issue.status}}"><strong>{{issue.stateText}}</strong>{{#issue.assignee}} · assigned to {{.}}{{/issue.assignee}}{{#issue.acknowledged}} · acknowledged by {{.}}{{/issue.acknowledged}}</p>
          </header>

          {{#canAct}}
          <section class="actions" aria-label="Actions">
            <form method="post" action="/issues/{{issue.id}}/actions" class="inline">
              <input type="hidden" name="csrf" value="{{csrf}}">
              {{#buttons}}<button type="submit" name="action" value="{{value}}"{{#primary}} class="primary"{{/primary}}>{{label}}</button>{{/buttons}}
            </form>
            <form method="post" action="/issues/{{issue.id}}/actions" class="inline">
              <input type="hidden" name="csrf" value="{{csrf}}">
              <label for="ignore-choice">Ignore</label>
              <select id="ignore-choice" name="action">{{#ignoreChoices}}<option value="{{value}}">{{label}}</option>{{/ignoreChoices}}</select>
              <button type="submit">Ignore</button>
            </form>
            <form method="post" action="/issues/{{issue.id}}/actions" class="inline">
              <input type="hidden" name="csrf" value="{{csrf}}">
              <label for="assignee-choice">Assign to</label>
              <select id="assignee-choice" name="action">{{#assignees}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/assignees}}</select>
              <button type="submit">Assign</button>
            </form>
          </section>
          {{/canAct}}

          <dl class="facts">
            <div><dt>Events</dt><dd>{{issue.events}}</dd></div>
            <div><dt>Users</dt><dd>{{issue.users}}</dd></div>
            <div><dt>First seen</dt><dd><time datetime="{{issue.firstSeen.iso}}">{{issue.firstSeen.text}}</time></dd></div>
            <div><dt>Last seen</dt><dd><time datetime="{{issue.lastSeen.iso}}">{{issue.lastSeen.text}}</time></dd></div>
            <div><dt>Releases</dt><dd>{{#issue.releases}}<span class="chip">{{.}}</span> {{/issue.releases}}{{^issue.releases}}none{{/issue.releases}}</dd></div>
            <div><dt>Environments</dt><dd>{{#issue.environments}}<span class="chip">{{.}}</span> {{/issue.environments}}{{^issue.environments}}none{{/issue.environments}}</dd></div>
          </dl>

          <section class="charts" aria-label="Events over time">
            {{#charts}}
            <figure>
              <figcaption>{{title}} · {{total}} events</figcaption>
              <svg viewBox="0 0 {{width}} {{height}}" role="img" aria-label="{{title}}: {{total}} events" preserveAspectRatio="none">
                {{#bars}}<rect x="{{x}}" y="{{y}}" width="{{width}}" height="{{height}}"><title>{{label}}: {{count}}</title></rect>{{/bars}}
              </svg>
              <p class="axis"><span>{{from}}</span><span>{{to}}</span></p>
            </figure>
            {{/charts}}
          </section>

          <section aria-labelledby="why">
            <h2 id="why">Why it alerted</h2>
            {{#hasFirings}}<p class="meta">Newest first, at most 50; each rule checked again for the event that fired it.</p>{{/hasFirings}}
            {{#firings}}
            <details class="firing"{{#open}} open{{/open}}>
              <summary><strong>{{rule}}</strong> <small class="loc">{{location}}</small> fired on <time datetime="{{at.iso}}">{{at.text}}</time> · trigger state <em>{{state}}</em></summary>
              <p>For event <a class="mono" href="/issues/{{issueID}}?event={{eventID}}">{{eventShort}}</a>, checked again with the running rules{{#versionChanged}} (the rules have changed since: it fired under version {{version}}){{/versionChanged}}:</p>
              {{#verdict}}<p class="trace {{#matched}}match{{/matched}}{{^matched}}miss{{/matched}}">{{reason}}</p>{{/verdict}}
              {{^verdict}}<p class="trace">That event is no longer stored, or the rule is no longer loaded.</p>{{/verdict}}
            </details>
            {{/firings}}
            {{^firings}}<p>No rule has fired for this issue.</p>{{/firings}}
            {{#hasQuietRules}}
            <p class="why-not">Rules that did not fire:
              {{#quietRules}}<a href="/issues/{{issueID}}?why_not={{nameEncoded}}#why-not">{{name}}</a> {{/quietRules}}
            </p>
            {{/hasQuietRules}}
            {{#whyNot}}
            <section id="why-not" class="why-not-result">
              <h3>Why not “{{rule}}”? (latest event, running rules)</h3>
              {{#verdict}}<p class="trace {{#matched}}match{{/matched}}{{^matched}}miss{{/matched}}">{{reason}} <small class="loc">{{location}}</small></p>{{/verdict}}
              {{^verdict}}<p>No rule of this project is called that.</p>{{/verdict}}
            </section>
            {{/whyNot}}
          </section>

          {{#event}}
          <section aria-labelledby="event">
            <h2 id="event">{{#latest}}Latest event{{/latest}}{{^latest}}Event{{/latest}} <small class="mono">{{eventID}}</small></h2>
            <p class="meta">Received <time datetime="{{received.iso}}">{{received.text}}</time>{{#release}} · release {{.}}{{/release}}{{#environment}} · {{.}}{{/environment}}</p>
            {{#message}}<pre class="message">{{.}}</pre>{{/message}}
            {{#exceptions}}
            <div class="exception">
              <h3><span class="mono">{{type}}</span>{{#value}}: {{.}}{{/value}}</h3>
              {{#mechanism}}<p class="meta">mechanism {{.}}</p>{{/mechanism}}
              <ol class="frames">
                {{#inApp}}<li class="frame in-app"><span class="mono">{{function}}</span> <span class="where">{{where}}</span>{{#context}}<pre>{{.}}</pre>{{/context}}</li>{{/inApp}}
              </ol>
              {{#otherCount}}
              <details class="other-frames"><summary>Other frames: {{otherCount}} (libraries and the runtime)</summary>
                <ol class="frames">{{#other}}<li class="frame"><span class="mono">{{function}}</span> <span class="where">{{where}}</span>{{#context}}<pre>{{.}}</pre>{{/context}}</li>{{/other}}</ol>
              </details>
              {{/otherCount}}
            </div>
            {{/exceptions}}
            {{#sections}}
            <h3>{{title}}</h3>
            <table class="kv"><tbody>{{#rows}}<tr><th scope="row">{{key}}</th><td>{{value}}</td></tr>{{/rows}}</tbody></table>
            {{/sections}}
          </section>
          {{/event}}

          <section aria-labelledby="older">
            <h2 id="older">Stored events ({{storedCount}})</h2>
            <ul class="events">
              {{#events}}<li>{{#current}}<strong>{{/current}}<a class="mono" href="/issues/{{issueID}}?event={{eventID}}">{{eventShort}}</a> <time datetime="{{received.iso}}">{{received.text}}</time>{{#environment}} · {{.}}{{/environment}}{{#release}} · {{.}}{{/release}}{{#current}}</strong>{{/current}}</li>{{/events}}
            </ul>
          </section>

          <section aria-labelledby="tags">
            <h2 id="tags">Tags</h2>
            <p class="meta">Over the {{storedCount}} stored events.</p>
            <div class="tag-groups">
            {{#tagGroups}}
            <div class="tag-group"><h3>{{key}}</h3>
              <ul>{{#values}}<li><span class="tag-value">{{value}}</span> <span class="count">{{count}} ({{percent}}%)</span><meter min="0" max="100" value="{{percent}}" aria-hidden="true"></meter></li>{{/values}}</ul>
            </div>
            {{/tagGroups}}
            {{^tagGroups}}<p>No tags.</p>{{/tagGroups}}
            </div>
          </section>

          <section aria-labelledby="deliveries">
            <h2 id="deliveries">Where it went</h2>
            <p class="meta">Newest first, at most 100: <a href="/deliveries?issue={{issue.shortID}}">every delivery of {{issue.shortID}}</a>.</p>
            <table class="list">
              <thead><tr><th scope="col">#</th><th scope="col">To</th><th scope="col">What</th><th scope="col">Status</th><th scope="col">Tries</th><th scope="col">Detail</th></tr></thead>
              <tbody>
              {{#deliveries}}
              <tr><td>{{id}}</td><td>{{kind}} {{target}} {{channel}}</td><td>{{purpose}}</td><td><span class="status status-{{status}}">{{status}}</span></td><td>{{attempts}}</td>
                <td>{{#lastError}}<span class="problem">{{.}}</span>{{/lastError}}{{#messageLink}} <a href="{{.}}">open the message</a>{{/messageLink}}</td></tr>
              {{/deliveries}}
              {{^deliveries}}<tr><td colspan="6">Nothing was sent for this issue.</td></tr>{{/deliveries}}
              </tbody>
            </table>
          </section>

          <section aria-labelledby="audit">
            <h2 id="audit">Who did what</h2>
            <ol class="audit">
              {{#audit}}<li><time datetime="{{at.iso}}">{{at.text}}</time> · {{summary}} <small>({{oldState}} → {{newState}})</small></li>{{/audit}}
              {{^audit}}<li>Nobody has acted on this issue.</li>{{/audit}}
            </ol>
          </section>
        </article>
        {{/body}}{{/layout}}
        """

    static let issues = """
        {{<layout}}{{$body}}
        <h1>Issues</h1>
        <form class="filters" method="get" action="/issues">
          <label>Project <select name="project"><option value="">all</option>{{#projects}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/projects}}</select></label>
          <label>Status <select name="status"><option value="">any</option>{{#statuses}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/statuses}}</select></label>
          <label>Level <select name="level"><option value="">any</option>{{#levels}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/levels}}</select></label>
          <label>Environment <select name="environment"><option value="">any</option>{{#environments}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/environments}}</select></label>
          <label>Assignee <select name="assignee"><option value="">anyone</option>{{#assignees}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/assignees}}</select></label>
          <label>Sort <select name="sort">{{#sorts}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/sorts}}</select></label>
          <label class="grow">Search <input type="search" name="q" value="{{query}}" placeholder="title or culprit"></label>
          <button type="submit">Show</button>
        </form>
        <form method="post" action="/issues/bulk">
          <input type="hidden" name="csrf" value="{{csrf}}">
          <input type="hidden" name="back" value="{{back}}">
          <table class="list issues">
            <thead><tr>{{#canAct}}<th scope="col"><span class="sr">Select</span></th>{{/canAct}}<th scope="col">Issue</th><th scope="col">Events</th><th scope="col">Users</th><th scope="col">Last seen</th></tr></thead>
            <tbody>
            {{#rows}}
            <tr>
              {{#canAct}}<td><input type="checkbox" name="issue" value="{{id}}" id="pick-{{id}}" aria-label="Select {{shortID}}"></td>{{/canAct}}
              <td><a href="/issues/{{id}}"><span class="level level-{{level}}">{{level}}</span> {{title}}</a>
                <br><small><span class="mono">{{shortID}}</span> · {{stateText}}{{#culprit}} · <span class="mono">{{.}}</span>{{/culprit}}{{#assignee}} · {{.}}{{/assignee}}</small></td>
              <td>{{events}}</td><td>{{users}}</td><td><time datetime="{{lastSeen.iso}}">{{lastSeen.text}}</time></td>
            </tr>
            {{/rows}}
            {{^rows}}<tr><td colspan="5">No issue matches.</td></tr>{{/rows}}
            </tbody>
          </table>
          {{#canAct}}{{#hasRows}}
          <p class="bulk">With the selected:
            <button type="submit" name="action" value="resolve">Resolve</button>
            <button type="submit" name="action" value="ignore:forever">Ignore</button>
          </p>
          {{/hasRows}}{{/canAct}}
        </form>
        {{#next}}<p><a class="button" href="{{.}}">Next page</a></p>{{/next}}
        {{/body}}{{/layout}}
        """

    static let rules = """
        {{<layout}}{{$body}}
        <h1>Rules</h1>
        <p class="meta">Version {{version}}, loaded <time datetime="{{loadedAt.iso}}">{{loadedAt.text}}</time> from {{fileCount}} files.</p>
        {{#reloadError}}
        <section class="problem" role="alert">
          <h2>The last reload failed <time datetime="{{at.iso}}">{{at.text}}</time></h2>
          <p>Herald kept running the rules above. Fix these and reload:</p>
          <ul>{{#errors}}<li class="mono">{{.}}</li>{{/errors}}</ul>
        </section>
        {{/reloadError}}
        {{#projects}}
        <section>
          <h2>{{slug}}</h2>
          <table class="list">
            <thead><tr><th scope="col">Rule</th><th scope="col">Where</th><th scope="col">Firings, 24 h</th><th scope="col">Notes</th></tr></thead>
            <tbody>
            {{#rules}}<tr><td>{{name}}</td><td class="mono">{{location}}</td><td>{{firings}}</td><td>{{^enabled}}disabled{{/enabled}}{{#regexLimitHits}} · {{.}} regex give-ups{{/regexLimitHits}}</td></tr>{{/rules}}
            </tbody>
          </table>
        </section>
        {{/projects}}
        {{^projects}}<p>No rules are loaded.</p>{{/projects}}
        <section aria-labelledby="explain">
          <h2 id="explain">Explain an event</h2>
          <form method="post" action="/rules/explain" class="explain">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <label for="explain-issue">The latest event of an issue (id or short id)</label>
            <input id="explain-issue" name="issue" value="{{explainIssue}}" placeholder="PAYMENTS-12">
            <label for="explain-json">or an event as JSON, with "project" (as for <code>herald explain</code>)</label>
            <textarea id="explain-json" name="event" rows="8" placeholder='{"project": "payments", "level": "error", "message": "timeout"}'>{{explainJSON}}</textarea>
            <button type="submit" class="primary">Explain</button>
          </form>
          {{#explainProblem}}<p class="problem" role="alert">{{.}}</p>{{/explainProblem}}
          {{#explained}}<h3>Verdicts for {{subject}}</h3>{{> explanation}}{{/explained}}
        </section>
        {{/body}}{{/layout}}
        """

    static let deliveries = """
        {{<layout}}{{$body}}
        <h1>Deliveries</h1>
        <form class="filters" method="get" action="/deliveries">
          <label>Status <select name="status"><option value="">any</option>{{#statuses}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/statuses}}</select></label>
          <label>Kind <select name="kind"><option value="">any</option>{{#kinds}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/kinds}}</select></label>
          <label>Target <input name="target" value="{{target}}"></label>
          <label>Issue <input name="issue" value="{{issue}}" placeholder="PAYMENTS-12"></label>
          <button type="submit">Show</button>
        </form>
        <p class="meta">{{#counts}}<a href="/deliveries?status={{status}}"><span class="status status-{{status}}">{{status}}</span> {{count}}</a> {{/counts}}</p>
        <table class="list">
          <thead><tr><th scope="col">#</th><th scope="col">Issue</th><th scope="col">To</th><th scope="col">Status</th><th scope="col">Tries</th><th scope="col">Updated</th><th scope="col">Detail</th></tr></thead>
          <tbody>
          {{#rows}}
          <tr>
            <td>{{id}}</td><td><a class="mono" href="/issues/{{issueID}}">{{issueLabel}}</a></td>
            <td>{{purpose}} {{kind}} {{target}} {{channel}}</td>
            <td><span class="status status-{{status}}">{{status}}</span></td><td>{{attempts}}</td>
            <td><time datetime="{{updated.iso}}">{{updated.text}}</time></td>
            <td>{{#lastError}}<span class="problem">{{.}}</span>{{/lastError}}
              {{#retryable}}<form method="post" action="/deliveries/{{id}}/retry" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">Retry now</button></form>{{/retryable}}</td>
          </tr>
          {{/rows}}
          {{^rows}}<tr><td colspan="7">No delivery matches.</td></tr>{{/rows}}
          </tbody>
        </table>
        {{#next}}<p><a class="button" href="{{.}}">Older</a></p>{{/next}}
        {{/body}}{{/layout}}
        """
}
