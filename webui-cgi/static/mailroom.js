/* mailroom.js - keyboard shortcuts for mailroom's web pages.
 *
 * The pages work without this file: every key does what a link or a
 * form of the page already does (the CSP allows scripts from our origin
 * only, so there are no inline handlers; everything is bound here).
 *
 *   inbox         j / k   move the focus row (tr.conv.focus)
 *                 Enter   open the focus row
 *                 x       tick the focus row's checkbox
 *                 1 - 5   classify the ticked rows (or the focus row)
 *                         through the bulk form
 *                 K       open the focus row (claiming needs its page)
 *   conversation  K       claim it (form#act-claim)
 *                 1 - 5   classify it (the buttons of form#act-classify)
 *   every page    Esc     back to the inbox (or close the help)
 *                 ?       show or hide the list of keys (#keys-help)
 *
 * Keys never act while the user types in a field, nor with Ctrl, Alt or
 * Meta held, so the browser's own shortcuts stay untouched.
 */
(function () {
	"use strict";

	/* The classes of keys 1 to 5, in the order of the classify buttons. */
	var CLASSES = ["customer", "supplier", "internal", "newsletter", "advertising"];

	var HELP = [
		["j / k", "next / previous conversation"],
		["Enter", "open it"],
		["x", "tick it"],
		["1 \u2013 5", "classify: customer, supplier, internal, newsletter, advertising"],
		["K", "claim (on a conversation); open (in the inbox)"],
		["Esc", "back to the inbox"],
		["?", "show or hide this list"]
	];

	/* typing - is the key meant for a field the user is typing in? */
	function typing(target) {
		if (!target || target.nodeType !== 1) return false;
		if (target.isContentEditable) return true;
		var tag = target.tagName;
		return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
	}

	/* rows - the inbox's conversation rows, in page order */
	function rows() {
		return Array.prototype.slice.call(document.querySelectorAll("table.inbox tr.conv"));
	}

	function focusRow() {
		return document.querySelector("table.inbox tr.conv.focus");
	}

	/* setFocus - make row the focus row: marked, in view, its link focused */
	function setFocus(row) {
		var old = focusRow();
		if (old) {
			old.classList.remove("focus");
			old.removeAttribute("aria-current");
		}
		row.classList.add("focus");
		row.setAttribute("aria-current", "true");
		var link = row.querySelector("a.subject");
		if (link) link.focus({ preventScroll: true });
		row.scrollIntoView({ block: "nearest" });
	}

	/* move - the focus row by step (+1 down, -1 up), the first when none */
	function move(step) {
		var all = rows();
		if (all.length === 0) return false;
		var i = all.indexOf(focusRow());
		i = i < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, i + step));
		setFocus(all[i]);
		return true;
	}

	function checkbox(row) {
		return row ? row.querySelector('input[type="checkbox"][name="id"]') : null;
	}

	/* open - follow the focus row's subject link */
	function open() {
		var row = focusRow(), link = row && row.querySelector("a.subject");
		if (!link) return false;
		window.location.assign(link.href);
		return true;
	}

	function tick() {
		var box = checkbox(focusRow());
		if (!box) return false;
		box.checked = !box.checked;
		box.dispatchEvent(new Event("change", { bubbles: true }));
		return true;
	}

	/* send - submit a form as its own submit button would, events included */
	function send(form, button) {
		if (typeof form.requestSubmit === "function") form.requestSubmit(button || undefined);
		else if (button) button.click();
		else form.submit();
	}

	/* setSelect - choose value in select; false when it has no such option */
	function setSelect(select, value) {
		if (!select) return false;
		for (var i = 0; i < select.options.length; i++) {
			if (select.options[i].value === value) {
				select.selectedIndex = i;
				return true;
			}
		}
		return false;
	}

	/* classifyBulk - the ticked rows (or else the focus row) get class cls
	 * through the bulk form: action "classify", the class, submit */
	function classifyBulk(cls) {
		var form = document.getElementById("bulk");
		if (!form) return false;
		var ticked = document.querySelectorAll('input[type="checkbox"][name="id"][form="bulk"]:checked');
		if (ticked.length === 0) {
			var box = checkbox(focusRow());
			if (!box) return false;
			box.checked = true;
		}
		if (!setSelect(form.querySelector('select[name="action"]'), "classify") ||
		    !setSelect(form.querySelector('select[name="class"]'), cls))
			return false;
		form.submit();
		return true;
	}

	/* classifyOne - press the classify button of this conversation */
	function classifyOne(cls) {
		var form = document.getElementById("act-classify");
		var button = form && form.querySelector('button[name="class"][value="' + cls + '"]');
		if (!button) return false;
		send(form, button);
		return true;
	}

	/* claim - submit this conversation's claim form */
	function claim() {
		var form = document.getElementById("act-claim");
		if (!form) return false;
		send(form, form.querySelector('button[type="submit"], button:not([type])'));
		return true;
	}

	/* inboxHref - the inbox's address, from the navigation's home link */
	function inboxHref() {
		var home = document.querySelector("header.app a.home");
		return home ? home.href : null;
	}

	/* help - the list of keys, made once and then shown or hidden */
	function help() {
		var box = document.getElementById("keys-help");
		if (!box) {
			box = document.createElement("aside");
			box.id = "keys-help";
			box.setAttribute("aria-label", "Keyboard shortcuts");
			box.hidden = true;
			var h = document.createElement("h2");
			h.textContent = "Keyboard shortcuts";
			box.appendChild(h);
			var dl = document.createElement("dl");
			HELP.forEach(function (pair) {
				var dt = document.createElement("dt"), kbd = document.createElement("kbd");
				var dd = document.createElement("dd");
				kbd.textContent = pair[0];
				dt.appendChild(kbd);
				dd.textContent = pair[1];
				dl.appendChild(dt);
				dl.appendChild(dd);
			});
			box.appendChild(dl);
			document.body.appendChild(box);
		}
		box.hidden = !box.hidden;
		return true;
	}

	function helpOpen() {
		var box = document.getElementById("keys-help");
		return box !== null && !box.hidden;
	}

	/* onKey - one key press: true when it was ours */
	function onKey(e) {
		var inbox = document.querySelector("table.inbox") !== null;
		var n = e.key.length === 1 ? "12345".indexOf(e.key) : -1;
		if (e.key === "?") return help();
		if (e.key === "Escape") {
			if (helpOpen()) return help();
			var href = inboxHref();
			if (!href || inbox) return false;
			window.location.assign(href);
			return true;
		}
		if (n >= 0)
			return inbox ? classifyBulk(CLASSES[n]) : classifyOne(CLASSES[n]);
		if (inbox) {
			switch (e.key) {
			case "j":
				return move(1);
			case "k":
				return move(-1);
			case "x":
				return tick();
			case "K":
				return open();
			case "Enter":
				/* A focused link or button does its own Enter. */
				if (e.target && e.target.closest && e.target.closest("a, button, summary")) return false;
				return open();
			}
			return false;
		}
		return e.key === "K" ? claim() : false;
	}

	document.addEventListener("keydown", function (e) {
		if (e.defaultPrevented || e.isComposing || e.ctrlKey || e.altKey || e.metaKey) return;
		if (typing(e.target)) return;
		if (onKey(e)) e.preventDefault();
	});
})();
