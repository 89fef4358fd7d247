document.getElementById("api-reference").textContent = "";
