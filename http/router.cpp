// ServeMux-compatible routing; see router.hpp.
#include "uetcd/http/router.hpp"

#include "uetcd/assert.hpp"
#include "uetcd/http/query.hpp"

namespace uetcd::http {

std::string clean_path(std::string_view path) {
    if (path.empty()) {
        return "/";
    }
    // path.Clean on a rooted path: collapse slashes, drop ".", resolve "..".
    std::vector<std::string_view> parts;
    std::size_t i = 0;
    while (i < path.size()) {
        while (i < path.size() && path[i] == '/') {
            ++i;
        }
        std::size_t end = path.find('/', i);
        if (end == std::string_view::npos) {
            end = path.size();
        }
        const std::string_view part = path.substr(i, end - i);
        if (part == "..") {
            if (!parts.empty()) {
                parts.pop_back();
            }
        } else if (!part.empty() && part != ".") {
            parts.push_back(part);
        }
        i = end;
    }
    std::string out;
    out.reserve(path.size() + 1);
    for (const auto& part : parts) {
        out.push_back('/');
        out.append(part);
    }
    if (out.empty()) {
        return "/";
    }
    if (path.back() == '/') {
        out.push_back('/');
    }
    return out;
}

void append_escaped_path(std::string& out, std::string_view path) {
    static constexpr char hex[] = "0123456789ABCDEF";
    for (const char c : path) {
        const auto u = static_cast<unsigned char>(c);
        const bool keep = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
            (u >= '0' && u <= '9') || std::string_view("-._~/:@!$&'()*+,;=").find(c) !=
            std::string_view::npos;
        if (keep) {
            out.push_back(c);
        } else {
            out.push_back('%');
            out.push_back(hex[u >> 4]);
            out.push_back(hex[u & 15]);
        }
    }
}

void router::exact(std::string_view path, sync_handler handler) {
    _entries.push_back(entry{std::string(path), false, std::move(handler), nullptr});
}

void router::subtree(std::string_view prefix, sync_handler handler) {
    UETCD_ASSERT(!prefix.empty() && prefix.back() == '/');
    _entries.push_back(entry{std::string(prefix), true, std::move(handler), nullptr});
}

void router::exact_async(std::string_view path, async_handler handler) {
    _entries.push_back(entry{std::string(path), false, nullptr, std::move(handler)});
}

void router::subtree_async(std::string_view prefix, async_handler handler) {
    UETCD_ASSERT(!prefix.empty() && prefix.back() == '/');
    _entries.push_back(entry{std::string(prefix), true, nullptr, std::move(handler)});
}

const router::entry* router::match(std::string_view path) const noexcept {
    // ServeMux: an exact pattern wins, else the longest matching subtree.
    const entry* best = nullptr;
    for (const auto& e : _entries) {
        if (!e.is_subtree) {
            if (path == e.pattern) {
                return &e;
            }
        } else if (path.starts_with(e.pattern) &&
            (best == nullptr || e.pattern.size() > best->pattern.size())) {
            best = &e;
        }
    }
    return best;
}

namespace {

void redirect_to_clean(const request& req, response& res, std::string_view cleaned) {
    std::string location;
    append_escaped_path(location, cleaned);
    if (!req.query.empty()) {
        location.push_back('?');
        location.append(req.query);
    }
    res.set_status(301);
    res.add_header("Location", location);
    // http.Redirect writes a short HTML body for GET and HEAD only.
    if (req.method == method::get || req.method == method::head) {
        res.add_header("Content-Type", "text/html; charset=utf-8");
        std::string& body = res.body();
        body.append("<a href=\"");
        for (const char c : location) {
            switch (c) {
            case '<': body.append("&lt;"); break;
            case '>': body.append("&gt;"); break;
            case '&': body.append("&amp;"); break;
            case '\'': body.append("&#39;"); break;
            case '"': body.append("&#34;"); break;
            default: body.push_back(c);
            }
        }
        body.append("\">Moved Permanently</a>.\n\n");
    }
}

}  // namespace

const async_handler* router::route(const request& req, response& res,
    std::string& decoded_path, std::string_view tls_common_name) const {
    if (!percent_decode_path(req.path, decoded_path)) {
        // Go rejects the request line itself when the target's escapes are bad.
        res.reject_bad_request();
        return nullptr;
    }
    if (req.method != method::connect) {
        const bool clean = !decoded_path.empty() && decoded_path.front() == '/' &&
            decoded_path.find("//") == std::string::npos &&
            decoded_path.find("/./") == std::string::npos &&
            decoded_path.find("/../") == std::string::npos &&
            !decoded_path.ends_with("/.") && !decoded_path.ends_with("/..");
        if (!clean) {
            redirect_to_clean(req, res, clean_path(decoded_path));
            return nullptr;
        }
    }
    const entry* e = match(decoded_path);
    if (e == nullptr) {
        res.reply_text_error(404, "404 page not found");
        return nullptr;
    }
    if (e->async) {
        return &e->async;
    }
    exchange ex{req, decoded_path, res};
    ex.tls_common_name = tls_common_name;
    e->sync(ex);
    return nullptr;
}

}  // namespace uetcd::http
