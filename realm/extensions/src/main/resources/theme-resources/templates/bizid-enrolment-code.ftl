<#-- bizid-enrolment-code: the one-time enrolment code after an operator reset (org.bizid.keycloak.enrolment). -->
<#import "template.ftl" as layout>
<@layout.registrationLayout displayMessage=true; section>
    <#if section = "header">
        ${msg("bizidEnrolmentCodeTitle")}
    <#elseif section = "form">
        <p>${msg("bizidEnrolmentCodeHelp")}</p>
        <form id="bizid-enrolment-code" action="${url.loginAction}" method="post">
            <label for="enrolment_code">${msg("bizidEnrolmentCodeLabel")}</label>
            <input id="enrolment_code" name="enrolment_code" type="text" autocomplete="one-time-code" autofocus/>
            <input type="submit" name="submit" value="${msg("doSubmit")}"/>
        </form>
    </#if>
</@layout.registrationLayout>
