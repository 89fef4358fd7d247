// The API reference: reads the OpenAPI document of this server and lists every
// operation with its parameters, request and response schemas, and a form to try it.
// Plain DOM building (never innerHTML), so text from the document cannot become markup.
(function () {
  "use strict";

  var root = document.getElementById("api-reference");
  var toc = document.getElementById("api-toc");
  var METHODS = ["get", "post", "put", "patch", "delete"];
  var spec = null;

  function el(tag, attrs) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else node.setAttribute(key, value === true ? "" : value);
    });
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined) continue;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function resolve(node) {
    var seen = 0;
    while (node && node.$ref && seen++ < 20) {
      var target = spec;
      node.$ref.replace(/^#\//, "").split("/").forEach(function (part) {
        target = target && target[part.replace(/~1/g, "/").replace(/~0/g, "~")];
      });
      node = target;
    }
    return node || {};
  }

  function refName(node) {
    return node && node.$ref ? node.$ref.split("/").pop() : "";
  }

  // --- schemas as readable text -------------------------------------------------

  function constraints(schema) {
    var notes = [];
    if (schema.format) notes.push(schema.format);
    if (schema.minLength !== undefined || schema.maxLength !== undefined)
      notes.push("length " + (schema.minLength || 0) + ".." + (schema.maxLength !== undefined ? schema.maxLength : "∞"));
    if (schema.minimum !== undefined || schema.maximum !== undefined)
      notes.push("range " + (schema.minimum !== undefined ? schema.minimum : "-∞") + ".." + (schema.maximum !== undefined ? schema.maximum : "∞"));
    if (schema.pattern) notes.push("pattern " + schema.pattern);
    if (schema["default"] !== undefined) notes.push("default " + JSON.stringify(schema["default"]));
    if (schema.nullable) notes.push("may be null");
    if (schema.readOnly) notes.push("read-only");
    return notes.length ? "  (" + notes.join(", ") + ")" : "";
  }

  function typeName(schema) {
    if (schema["enum"]) return schema["enum"].map(function (v) { return JSON.stringify(v); }).join(" | ");
    return schema.type || "any";
  }

  function describe(node, indent, trail) {
    var name = refName(node);
    var schema = resolve(node);
    var pad = new Array(indent + 1).join("  ");
    if (name && trail.indexOf(name) !== -1) return name + " (see above)";
    var nextTrail = name ? trail.concat([name]) : trail;
    if (schema.type === "array") {
      return "array of " + describe(schema.items || {}, indent, nextTrail);
    }
    if (schema.type === "object" || schema.properties) {
      var required = schema.required || [];
      var props = schema.properties || {};
      var keys = Object.keys(props);
      if (!keys.length) return (name ? name + " " : "") + "object";
      var lines = keys.map(function (key) {
        var prop = resolve(props[key]);
        var text = describe(props[key], indent + 1, nextTrail);
        var extra = props[key].$ref ? "" : constraints(prop);
        var about = prop.description ? "  // " + prop.description : "";
        return pad + "  " + key + (required.indexOf(key) !== -1 ? "*" : "") + ": " + text + extra + about;
      });
      return (name ? name + " " : "") + "{\n" + lines.join("\n") + "\n" + pad + "}";
    }
    return typeName(schema);
  }

  function example(node, depth) {
    var schema = resolve(node);
    if (depth > 5) return null;
    if (schema.example !== undefined) return schema.example;
    if (schema["default"] !== undefined) return schema["default"];
    if (schema["enum"]) return schema["enum"][0];
    if (schema.type === "array") return [example(schema.items || {}, depth + 1)];
    if (schema.type === "object" || schema.properties) {
      var props = schema.properties || {};
      var keys = schema.required && schema.required.length ? schema.required : Object.keys(props);
      var out = {};
      keys.forEach(function (key) {
        if (props[key] && !resolve(props[key]).readOnly) out[key] = example(props[key], depth + 1);
      });
      return out;
    }
    if (schema.type === "integer" || schema.type === "number") return schema.minimum !== undefined ? Math.max(schema.minimum, 1) : 1;
    if (schema.type === "boolean") return false;
    if (schema.format === "date-time") return new Date().toISOString();
    if (schema.format === "date") return new Date().toISOString().slice(0, 10);
    return "text";
  }

  // --- one operation ------------------------------------------------------------

  function slug(method, path) {
    return "op-" + method + path.replace(/[^A-Za-z0-9]+/g, "-").replace(/-+$/, "");
  }

  function securityOf(op) {
    var security = op.security || spec.security || [];
    if (!security.length) return "none";
    var names = Object.keys(security[0] || {});
    return names.length ? names[0] : "none";
  }

  function parametersOf(pathItem, op) {
    var byKey = {};
    (pathItem.parameters || []).concat(op.parameters || []).forEach(function (p) {
      p = resolve(p);
      byKey[p["in"] + ":" + p.name] = p;
    });
    return Object.keys(byKey).map(function (k) { return byKey[k]; });
  }

  function parameterTable(params) {
    var body = el("tbody");
    params.forEach(function (p) {
      var schema = resolve(p.schema || {});
      body.appendChild(el("tr", {},
        el("td", {}, el("code", { text: p.name }), p.required ? " *" : ""),
        el("td", { text: p["in"] }),
        el("td", { text: typeName(schema) + constraints(schema) }),
        el("td", { text: p.description || "" })));
    });
    return el("table", { className: "params" },
      el("thead", {}, el("tr", {},
        el("th", { scope: "col", text: "Name" }), el("th", { scope: "col", text: "In" }),
        el("th", { scope: "col", text: "Type" }), el("th", { scope: "col", text: "About" }))),
      body);
  }

  function schemaBlock(content) {
    var block = el("div");
    Object.keys(content || {}).forEach(function (type) {
      var media = content[type];
      block.appendChild(el("p", {}, "Content type ", el("code", { text: type })));
      if (media.schema) block.appendChild(el("pre", { className: "schema", text: describe(media.schema, 0, []) }));
    });
    return block;
  }

  function responsesBlock(responses) {
    var list = el("dl");
    Object.keys(responses || {}).sort().forEach(function (status) {
      var response = resolve(responses[status]);
      list.appendChild(el("dt", {}, el("strong", { text: status }), " ", response.description || ""));
      list.appendChild(el("dd", {}, schemaBlock(response.content)));
    });
    return list;
  }

  function operationSection(path, method, pathItem, op) {
    var id = slug(method, path);
    var params = parametersOf(pathItem, op);
    var auth = securityOf(op);
    var details = el("details", { className: "card op", id: id },
      el("summary", {},
        el("h3", {}, el("span", { className: "method method-" + method, text: method.toUpperCase() }),
          " ", el("code", { text: path })),
        op.summary ? " · " + op.summary : ""));
    if (op.description && op.description !== op.summary) details.appendChild(el("p", { text: op.description }));
    details.appendChild(el("p", { className: "muted", text:
      auth === "bearerAuth" ? "Needs a bearer token." :
      auth === "basicAuth" ? "Needs HTTP Basic with your e-mail and password." : "No credentials needed." }));
    if (params.length) {
      details.appendChild(el("h4", { text: "Parameters" }));
      details.appendChild(parameterTable(params));
    }
    if (op.requestBody) {
      var requestBody = resolve(op.requestBody);
      details.appendChild(el("h4", { text: "Request body" + (requestBody.required ? " (required)" : "") }));
      details.appendChild(schemaBlock(requestBody.content));
    }
    details.appendChild(el("h4", { text: "Responses" }));
    details.appendChild(responsesBlock(op.responses));
    details.appendChild(tryForm(id, path, method, params, op, auth));
    return details;
  }

  // --- try it -------------------------------------------------------------------

  function tryForm(id, path, method, params, op, auth) {
    var form = el("form", { className: "try", "aria-label": "Try " + method.toUpperCase() + " " + path });
    form.appendChild(el("h4", { text: "Try it" }));
    var inputs = [];
    params.forEach(function (p) {
      var inputId = id + "-" + p["in"] + "-" + p.name;
      var schema = resolve(p.schema || {});
      var input;
      if (schema["enum"]) {
        input = el("select", { id: inputId });
        input.appendChild(el("option", { value: "", text: "(not sent)" }));
        schema["enum"].forEach(function (v) { input.appendChild(el("option", { value: v, text: v })); });
      } else {
        input = el("input", { id: inputId, type: "text", autocomplete: "off", required: p.required || null,
          placeholder: schema["default"] !== undefined ? String(schema["default"]) : null });
      }
      inputs.push({ param: p, input: input });
      form.appendChild(el("div", { className: "field" },
        el("label", { "for": inputId, text: p.name + " (" + p["in"] + (p.required ? ", required" : "") + ")" }), input));
    });
    var bodyInput = null;
    var fileInputs = [];
    var content = op.requestBody ? resolve(op.requestBody).content || {} : {};
    if (content["application/json"]) {
      bodyInput = el("textarea", { id: id + "-body", rows: 8, className: "mono", spellcheck: "false" });
      bodyInput.value = JSON.stringify(example(content["application/json"].schema || {}, 0), null, 2);
      form.appendChild(el("div", { className: "field" }, el("label", { "for": id + "-body", text: "JSON body" }), bodyInput));
    } else if (content["multipart/form-data"]) {
      var props = resolve(content["multipart/form-data"].schema || {}).properties || {};
      Object.keys(props).forEach(function (name) {
        var prop = resolve(props[name]);
        var binary = prop.format === "binary" || prop.type === "file";
        var inputId = id + "-form-" + name;
        var input = el("input", { id: inputId, type: binary ? "file" : "text", name: name });
        fileInputs.push(input);
        form.appendChild(el("div", { className: "field" }, el("label", { "for": inputId, text: name + " (form field)" }), input));
      });
    }
    var output = el("output", { id: id + "-result", role: "status", "aria-live": "polite", "for": id + "-send" });
    form.appendChild(el("button", { type: "submit", id: id + "-send", text: "Send request" }));
    form.appendChild(output);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      send(path, method, inputs, bodyInput, fileInputs, auth, output);
    });
    return form;
  }

  function credentials(auth) {
    if (auth === "basicAuth") {
      var email = document.getElementById("auth-email").value;
      var password = document.getElementById("auth-password").value;
      return email ? "Basic " + btoa(unescape(encodeURIComponent(email + ":" + password))) : null;
    }
    var token = document.getElementById("auth-token").value.trim();
    return token ? "Bearer " + token : null;
  }

  function buildRequest(path, method, inputs, bodyInput, fileInputs, auth) {
    var url = path;
    var query = new URLSearchParams();
    var headers = { Accept: "application/json" };
    var missing = [];
    inputs.forEach(function (item) {
      var value = item.input.value;
      var p = item.param;
      if (value === "") {
        if (p.required) missing.push(p.name);
        return;
      }
      if (p["in"] === "path") url = url.replace("{" + p.name + "}", encodeURIComponent(value));
      else if (p["in"] === "query") query.append(p.name, value);
      else if (p["in"] === "header") headers[p.name] = value;
    });
    var credential = credentials(auth);
    if (credential) headers.Authorization = credential;
    var init = { method: method.toUpperCase(), headers: headers, credentials: "omit" };
    if (bodyInput) {
      headers["Content-Type"] = "application/json";
      init.body = bodyInput.value;
    } else if (fileInputs.length) {
      var data = new FormData();
      fileInputs.forEach(function (input) {
        if (input.type === "file") { if (input.files[0]) data.append(input.name, input.files[0]); }
        else if (input.value) data.append(input.name, input.value);
      });
      init.body = data;
    }
    var qs = query.toString();
    return { url: url + (qs ? "?" + qs : ""), init: init, missing: missing };
  }

  function readSome(response, controller) {
    // An event stream never ends: show what arrives in the first seconds, then stop.
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var text = "";
    var timer = setTimeout(function () { controller.abort(); }, 4000);
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) return text;
        text += decoder.decode(chunk.value, { stream: true });
        return pump();
      }, function () { return text + "\n(stream closed after a few seconds)"; });
    }
    return pump().then(function (result) { clearTimeout(timer); return result; });
  }

  function send(path, method, inputs, bodyInput, fileInputs, auth, output) {
    var request = buildRequest(path, method, inputs, bodyInput, fileInputs, auth);
    output.textContent = "";
    if (request.missing.length) {
      output.appendChild(el("p", { className: "field-error", text: "Fill in: " + request.missing.join(", ") + "." }));
      return;
    }
    var controller = new AbortController();
    request.init.signal = controller.signal;
    var started = performance.now();
    output.appendChild(el("p", { className: "muted", text: "Sending " + request.init.method + " " + request.url + " …" }));
    fetch(request.url, request.init).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      var reading = type.indexOf("text/event-stream") === 0 ? readSome(response, controller) : response.text();
      return reading.then(function (text) {
        var shown = text;
        if (type.indexOf("json") !== -1 && text) {
          try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { shown = text; }
        }
        output.textContent = "";
        output.appendChild(el("p", {},
          el("strong", { className: "status-line", text: response.status + " " + response.statusText }),
          " · " + Math.round(performance.now() - started) + " ms · " + (type || "no body")));
        if (shown) output.appendChild(el("pre", { className: "schema response-body", text: shown }));
        if (response.ok && /^\/api\/v1\/tokens$/.test(path) && method === "post") useToken(text);
      });
    }).catch(function (error) {
      output.textContent = "";
      output.appendChild(el("p", { className: "field-error", text: "The request failed: " + error.message }));
    });
  }

  function useToken(text) {
    try {
      var token = JSON.parse(text).token;
      if (token) {
        document.getElementById("auth-token").value = token;
        document.getElementById("auth-status").textContent = "Token received; it is used for the requests below.";
      }
    } catch (e) { /* not a token answer */ }
  }

  // --- the page -----------------------------------------------------------------

  function getToken(event) {
    event.preventDefault();
    var status = document.getElementById("auth-status");
    var header = credentials("basicAuth");
    if (!header) { status.textContent = "Enter your e-mail and password first."; return; }
    status.textContent = "Asking for a token …";
    fetch("/api/v1/tokens", { method: "POST", credentials: "omit",
      headers: { Authorization: header, "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ name: "API reference" }) })
      .then(function (response) {
        return response.json().then(function (data) {
          if (response.ok) useToken(JSON.stringify(data));
          else status.textContent = response.status + ": " + ((data.error && data.error.message) || "refused");
        });
      })
      .catch(function (error) { status.textContent = "The request failed: " + error.message; });
  }

  function render() {
    root.textContent = "";
    root.setAttribute("aria-busy", "false");
    var tags = (spec.tags || []).map(function (t) { return t.name; });
    var groups = {};
    var count = 0;
    Object.keys(spec.paths || {}).forEach(function (path) {
      var pathItem = spec.paths[path];
      METHODS.forEach(function (method) {
        var op = pathItem[method];
        if (!op) return;
        var tag = (op.tags && op.tags[0]) || "other";
        if (tags.indexOf(tag) === -1) tags.push(tag);
        (groups[tag] = groups[tag] || []).push([path, method, pathItem, op]);
        count++;
      });
    });
    var info = spec.info || {};
    root.appendChild(el("p", { id: "api-count", text: (info.title || "API") + " " + (info.version || "") +
      " · OpenAPI " + (spec.openapi || "") + " · " + count + " operations" }));
    var tocList = el("ul");
    tags.forEach(function (tag) {
      if (!groups[tag]) return;
      var about = (spec.tags || []).filter(function (t) { return t.name === tag; })[0];
      var headingId = "tag-" + tag.replace(/[^A-Za-z0-9]+/g, "-");
      var section = el("section", { "aria-labelledby": headingId },
        el("h2", { id: headingId, text: about && about.description ? about.description : tag }));
      groups[tag].forEach(function (entry) {
        section.appendChild(operationSection(entry[0], entry[1], entry[2], entry[3]));
        tocList.appendChild(el("li", {}, el("a", { href: "#" + slug(entry[1], entry[0]) },
          entry[1].toUpperCase() + " " + entry[0])));
      });
      root.appendChild(section);
    });
    if (toc) { toc.textContent = ""; toc.appendChild(el("h2", { text: "Operations" })); toc.appendChild(tocList); }
    openFromHash();
  }

  function openFromHash() {
    var target = location.hash && document.getElementById(location.hash.slice(1));
    if (target && target.tagName === "DETAILS") { target.open = true; target.scrollIntoView(); }
  }

  document.getElementById("token-form").addEventListener("submit", getToken);
  window.addEventListener("hashchange", openFromHash);
  fetch(root.getAttribute("data-spec"), { headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) throw new Error("status " + response.status);
      return response.json();
    })
    .then(function (document_) { spec = document_; render(); })
    .catch(function (error) {
      root.textContent = "";
      root.setAttribute("aria-busy", "false");
      root.appendChild(el("p", { className: "flash flash-error", role: "alert",
        text: "The API document could not be loaded (" + error.message + ")." }));
    });
})();
