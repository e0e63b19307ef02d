import { render } from "preact";
import { createConsoleClient } from "./api/console-client.js";
import { App } from "./app.js";
import "./styles.css";

const root = document.getElementById("app");
if (root) render(<App client={createConsoleClient()} />, root);
