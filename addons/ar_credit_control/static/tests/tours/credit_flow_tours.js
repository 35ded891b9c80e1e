import { registry } from "@web/core/registry";

// The records of these tours come from the Python tests (tests/test_tours.py).

registry.category("web_tour.tours").add("ar_credit_control_request_approval_tour", {
    steps: () => [
        {
            content: "The salesperson sees the order will be blocked",
            trigger: ".o_form_view .alert-danger:contains(The credit check will block this confirmation)",
        },
        {
            content: "Try to confirm",
            trigger: ".o_form_statusbar button[name='action_confirm']",
            run: "click",
        },
        {
            content: "The credit check refuses it",
            trigger: ".modal:contains(Credit limit exceeded) .modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "Ask a credit manager",
            trigger: ".o_form_statusbar button[name='action_request_credit_approval']",
            run: "click",
        },
        {
            content: "The order is on hold, waiting for the decision",
            trigger: ".o_form_view .alert-danger:contains(On credit hold)",
        },
    ],
});

registry.category("web_tour.tours").add("ar_credit_control_approve_from_activity_tour", {
    steps: () => [
        {
            content: "Open my activities",
            trigger: ".o_menu_systray i[aria-label='Activities']",
            run: "click",
        },
        {
            content: "The credit approval waits on a sales order",
            trigger: ".o-mail-ActivityGroup[data-model_name='sale.order']",
            run: "click",
        },
        {
            content: "Open the order",
            trigger: ".o_list_view .o_data_row:contains(Approval Customer) td.o_data_cell",
            run: "click",
        },
        {
            content: "Approve its credit",
            trigger: ".o_form_statusbar button[name='action_open_credit_decision'].btn-primary",
            run: "click",
        },
        {
            content: "Give the reason",
            trigger: ".modal div[name='reason'] textarea",
            run: "edit Bank guarantee received",
        },
        {
            content: "Confirm the order at once",
            trigger: ".modal div[name='confirm_order'] input",
            run: "click",
        },
        {
            trigger: ".modal div[name='confirm_order'] input:checked",
        },
        {
            content: "Apply",
            trigger: ".modal button[name='action_apply']",
            run: "click",
        },
        {
            content: "The order is confirmed",
            trigger: ".o_form_view:not(:has(.modal)) .o_statusbar_status button.o_arrow_button_current:contains(Sales Order)",
        },
    ],
});

registry.category("web_tour.tours").add("ar_credit_control_worklist_promise_tour", {
    steps: () => [
        {
            content: "The customer to call is on my worklist",
            trigger: ".o_list_view .o_data_row:contains(Worklist Customer)",
        },
        {
            content: "Log a promise to pay",
            trigger: ".o_data_row:contains(Worklist Customer) button[name='action_log_promise']",
            run: "click",
        },
        {
            content: "Amount promised",
            trigger: ".modal div[name='promise_amount'] input",
            run: "edit 500",
        },
        {
            content: "Date promised",
            trigger: ".modal div[name='promise_date'] input",
            run: "edit 12/31/2030",
        },
        {
            trigger: ".modal div[name='note'] textarea",
            run: "edit Will pay after the holidays",
        },
        {
            content: "Save",
            trigger: ".modal .o_form_button_save",
            run: "click",
        },
        {
            content: "Contacted today: the customer leaves the worklist",
            trigger: ".o_list_view:not(:has(.o_data_row:contains(Worklist Customer)))",
        },
    ],
});

registry.category("web_tour.tours").add("ar_credit_control_portal_confirmation_tour", {
    steps: () => [
        {
            content: "The customer sees the balance to confirm",
            trigger: "form:has(.o_ar_confirm) #confirm_replied_by",
            run: "edit Jane from accounts payable",
        },
        {
            content: "Confirm the balance",
            trigger: ".o_ar_confirm",
            run: "click",
        },
        {
            content: "Thanked for the confirmation",
            trigger: ".o_ar_confirmation_done",
        },
    ],
});
