import Mustache

// The view models the templates repeat (rows, bars, frames, times) name their fields for swift-mustache
// directly. Without this it reflects each value with `Mirror` at every `{{name}}`, for every level of the
// context stack it searches: most of the issue page's render time before (50 ms at the median, 100 events
// and 50 firings), a few milliseconds after (Benchmarks/README.md).

extension Moment: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "iso": iso
        case "text": text
        default: nil
        }
    }
}

extension Choice: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "value": value
        case "label": label
        case "selected": selected
        default: nil
        }
    }
}

extension KeyValue: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "key": key
        case "value": value
        default: nil
        }
    }
}

extension Chart.Bar: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "x": x
        case "y": y
        case "width": width
        case "height": height
        case "label": label
        case "count": count
        default: nil
        }
    }
}

extension TagGroup.Value: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "value": value
        case "count": count
        case "percent": percent
        default: nil
        }
    }
}

extension IssuePage.EventLink: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "issueID": issueID
        case "eventID": eventID
        case "eventShort": eventShort
        case "received": received
        case "environment": environment as Any?
        case "release": release as Any?
        case "current": current
        default: nil
        }
    }
}

extension IssuePage.Firing: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "issueID": issueID
        case "rule": rule
        case "location": location
        case "at": at
        case "state": state
        case "eventID": eventID
        case "eventShort": eventShort
        case "version": version
        case "versionChanged": versionChanged
        case "verdict": verdict as Any?
        case "open": open
        default: nil
        }
    }
}

extension IssuePage.Verdict: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "matched": matched
        case "reason": reason
        case "location": location
        default: nil
        }
    }
}

extension IssuePage.DeliveryRow: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "id": id
        case "kind": kind
        case "target": target
        case "channel": channel
        case "purpose": purpose
        case "status": status
        case "attempts": attempts
        case "lastError": lastError as Any?
        case "messageLink": messageLink as Any?
        default: nil
        }
    }
}

extension IssuePage.AuditRow: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "at": at
        case "summary": summary
        case "oldState": oldState
        case "newState": newState
        default: nil
        }
    }
}

extension EventView.FrameView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "function": function
        case "where": `where`
        case "context": context as Any?
        default: nil
        }
    }
}

extension EventView.ExceptionView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "type": type
        case "value": value as Any?
        case "mechanism": mechanism as Any?
        case "inApp": inApp
        case "other": other
        case "otherCount": otherCount as Any?
        default: nil
        }
    }
}

extension EventView.Section: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "title": title
        case "rows": rows
        default: nil
        }
    }
}

extension TagGroup: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "key": key
        case "values": values
        default: nil
        }
    }
}

extension IssuePage.QuietRule: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "issueID": issueID
        case "name": self.name
        case "nameEncoded": nameEncoded
        default: nil
        }
    }
}

extension IssuePage: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "title": title
        case "nav": nav
        case "stylesheet": stylesheet
        case "viewer": viewer
        case "csrf": csrf
        case "flash": flash as Any?
        case "issue": issue
        case "canAct": canAct
        case "buttons": buttons
        case "ignoreChoices": ignoreChoices
        case "assignees": assignees
        case "charts": charts
        case "firings": firings
        case "hasFirings": hasFirings
        case "quietRules": quietRules
        case "hasQuietRules": hasQuietRules
        case "whyNot": whyNot as Any?
        case "event": event as Any?
        case "events": events
        case "storedCount": storedCount
        case "tagGroups": tagGroups
        case "deliveries": deliveries
        case "audit": audit
        default: nil
        }
    }
}

extension IssuePage.Header: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "id": id
        case "shortID": shortID
        case "title": title
        case "level": level
        case "status": status
        case "stateText": stateText
        case "project": project
        case "culprit": culprit as Any?
        case "assignee": assignee as Any?
        case "acknowledged": acknowledged as Any?
        case "firstSeen": firstSeen
        case "lastSeen": lastSeen
        case "events": events
        case "users": users
        case "releases": releases
        case "environments": environments
        default: nil
        }
    }
}

extension EventView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "eventID": eventID
        case "latest": latest
        case "received": received
        case "release": release as Any?
        case "environment": environment as Any?
        case "message": message as Any?
        case "exceptions": exceptions
        case "sections": sections
        default: nil
        }
    }
}

extension Chart: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "title": title
        case "total": total
        case "width": width
        case "height": height
        case "bars": bars
        case "from": from
        case "to": to
        default: nil
        }
    }
}

extension ViewerModel: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "name": self.name
        case "role": role
        case "csrf": csrf
        default: nil
        }
    }
}

extension Navigation: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "issues": issues
        case "rules": rules
        case "deliveries": deliveries
        default: nil
        }
    }
}

extension IssuePage.Button: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "value": value
        case "label": label
        case "primary": primary
        default: nil
        }
    }
}
