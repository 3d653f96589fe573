// The record form's resident picker (tom-select): searches residents in the user's area
// by name, pinyin initials ("wj") or the ID's last four; the query is POSTed, never put
// in a URL. Options show age, masked ID and community so that namesakes can be told apart.
(function () {
  "use strict";

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function setUp(select) {
    var form = select.closest("form");
    var url = select.dataset.pickerUrl;
    var picker = new TomSelect(select, {
      valueField: "id",
      labelField: "name",
      searchField: [],
      maxOptions: 20,
      loadThrottle: 250,
      preload: false,
      placeholder: select.dataset.placeholder || "",
      // The server matches pinyin and ID digits: keep its answers and their order.
      score: function () {
        return function () {
          return 1;
        };
      },
      shouldLoad: function (query) {
        return query.trim().length >= 1;
      },
      load: function (query, callback) {
        var body = new URLSearchParams({ q: query });
        fetch(url, {
          method: "POST",
          credentials: "same-origin",
          headers: { "X-CSRFToken": csrfToken(form) },
          body: body,
        })
          .then(function (response) {
            return response.ok ? response.json() : { results: [] };
          })
          .then(function (data) {
            picker.clearOptions();
            callback(data.results);
          })
          .catch(function () {
            callback();
          });
      },
      render: {
        option: function (data, escape) {
          return (
            '<div class="picker-option" data-testid="picker-option" data-resident="' +
            escape(data.id) + '">' + escape(data.name) +
            (data.meta ? '<span class="picker-meta">' + escape(data.meta) + "</span>" : "") +
            "</div>"
          );
        },
        item: function (data, escape) {
          return "<div>" + escape(data.name) +
            (data.meta ? '<span class="picker-meta">' + escape(data.meta) + "</span>" : "") +
            "</div>";
        },
        no_results: function () {
          return '<div class="no-results">' + (select.dataset.noResults || "") + "</div>";
        },
      },
      onChange: function (value) {
        if (!value) {
          return;
        }
        // a resident picked here replaces a chip chosen before
        form.querySelectorAll("input[name=resident]").forEach(function (radio) {
          radio.checked = false;
        });
      },
    });
    form.querySelectorAll("input[name=resident]").forEach(function (radio) {
      radio.addEventListener("change", function () {
        if (radio.checked) {
          picker.clear(true);
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-picker-url]").forEach(setUp);
  });
})();
