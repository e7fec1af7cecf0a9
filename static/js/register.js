// 注册: create a resident account (the API signs the new user in), then go to 我的诉求.
import { api, clearErrors, showErrors, t } from "./api.js";
import { busy } from "./resident-ui.js";

const form = document.getElementById("register-form");
const button = document.getElementById("register-button");

function localErrors(values) {
  const fields = {};
  if (!values.username) fields.username = [t("required")];
  else if (!/^[A-Za-z0-9_.@+-]{3,30}$/.test(values.username)) fields.username = [t("username_invalid")];
  if (!values.password) fields.password = [t("required")];
  else if (values.password.length < 8) fields.password = [t("password_short")];
  if (values.password && values.password2 !== values.password) fields.password2 = [t("password_mismatch")];
  if (values.phone && !/^1[3-9]\d{9}$/.test(values.phone)) fields.phone = [t("phone_invalid")];
  return fields;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const values = Object.fromEntries(new FormData(form));
  values.username = values.username.trim();
  values.display_name = values.display_name.trim();
  values.phone = values.phone.replace(/\s/g, "");
  const fields = localErrors(values);
  if (Object.keys(fields).length) {
    showErrors(form, { message: t("check_form"), fields });
    return;
  }
  clearErrors(form);
  busy(button, true, t("submitting"));
  try {
    const { password2, ...body } = values;
    await api("/api/v1/auth/register/", { method: "POST", body });
    window.location.assign(form.dataset.next);
  } catch (error) {
    if (error.status === 429) error.message = t("throttled");
    showErrors(form, error);
    busy(button, false, t("submit"));
  }
});
