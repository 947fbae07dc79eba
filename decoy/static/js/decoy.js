// Keyboard help for the quick form of the contact page: Ctrl+Enter (Cmd+Enter on a Mac) in any of its fields
// records the message, so that an officer logs one message after another without the mouse. Without
// JavaScript the form works the same way through its button.
document.addEventListener("keydown", function (event) {
  if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) {
    return;
  }
  var form = event.target && event.target.form;
  if (form && form.classList.contains("log-form")) {
    event.preventDefault();
    form.requestSubmit();
  }
});
